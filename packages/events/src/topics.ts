// Topic names, `<domain>.<stage>.v<N>` (DESIGN.md section 2). A breaking event change is a new topic.
export const topics = {
  raw: 'telemetry.raw.v1',
  rawDeadLetter: 'telemetry.raw.v1.dlq',
  normalized: 'telemetry.normalized.v1',
  tasks: 'tasks.v1',
  insights: 'insights.v1',
} as const;

/** Kafka key that keeps one host's events in order on one partition. */
export const hostKey = (tenant: string, host: string) => `${tenant}/${host}`;
