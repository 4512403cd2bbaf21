// The topics ingest writes and reads, provisioned by whichever ingest process starts first
// (ensureTopics is idempotent). The raw topic keeps a dead-letter twin for invalid events.
import type { Bus, TopicSpec } from '@tracer/bus';

export function ingestTopics(options: { rawTopic: string; normalizedTopic: string; partitions: number }): TopicSpec[] {
  return [
    { name: options.rawTopic, partitions: options.partitions, deadLetter: true },
    { name: options.normalizedTopic, partitions: options.partitions },
  ];
}

export async function ensureIngestTopics(
  bus: Bus,
  options: { rawTopic: string; normalizedTopic: string; partitions: number },
): Promise<void> {
  await bus.ensureTopics(ingestTopics(options));
}
