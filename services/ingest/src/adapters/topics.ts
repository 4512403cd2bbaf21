// The topics ingest writes and reads, provisioned by whichever ingest process starts first
// (ensureTopics is idempotent). Kafka applies its message size limit to a whole record batch
// (all records of one partition in one produce request), not to one record: the topics allow
// 8 MiB and every send stays under MAX_SEND_BYTES, so coalesced sends are never refused.

import type { Bus, TopicSpec } from '@tracer/bus';
import { deadLetterTopicOf } from '@tracer/bus';

export const TOPIC_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** Bytes of record values per produce request: below the topics' limit with room for headers. */
export const MAX_SEND_BYTES = 4 * 1024 * 1024;
const DLQ_RETENTION_MS = 14 * 24 * 3600 * 1000;

export interface IngestTopicNames {
  rawTopic: string;
  normalizedTopic: string;
  partitions: number;
}

export function ingestTopics(options: IngestTopicNames): TopicSpec[] {
  const config = { 'max.message.bytes': String(TOPIC_MAX_MESSAGE_BYTES) };
  return [
    { name: options.rawTopic, partitions: options.partitions, config },
    // Dead letters keep whole records (an undecodable batch): same size limit as the source.
    {
      name: deadLetterTopicOf(options.rawTopic),
      partitions: options.partitions,
      retentionMs: DLQ_RETENTION_MS,
      config,
    },
    { name: options.normalizedTopic, partitions: options.partitions, config },
  ];
}

export async function ensureIngestTopics(bus: Bus, options: IngestTopicNames): Promise<void> {
  await bus.ensureTopics(ingestTopics(options));
}

/** Splits messages into sends of at most MAX_SEND_BYTES of values each, order kept. */
export function splitSends<M extends { value: Buffer | string | null }>(
  messages: M[],
  maxBytes = MAX_SEND_BYTES,
): M[][] {
  const sends: M[][] = [];
  let current: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value?.length ?? 0;
    if (current.length > 0 && bytes + size > maxBytes) {
      sends.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) sends.push(current);
  return sends;
}
