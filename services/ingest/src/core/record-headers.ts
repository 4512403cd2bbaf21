// Kafka record headers ingest sets on telemetry.raw.v1 and telemetry.normalized.v1.

/** The team of the API key the gateway authenticated the record with. */
export const TEAM_HEADER = 'tracer.team';
/** The id of that key (audits; nothing downstream needs it). */
export const KEY_HEADER = 'tracer.key';
