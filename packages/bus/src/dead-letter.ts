// A dead-lettered record keeps the original key and bytes, the original headers, and says
// why and where from in `tracer.dlq.*` headers, so it can be inspected and replayed as is.
import type { ConsumedMessage, HeaderValue, OutgoingMessage, Reject } from './types.ts';

export const deadLetterHeaders = {
  reason: 'tracer.dlq.reason',
  sourceTopic: 'tracer.dlq.source.topic',
  sourcePartition: 'tracer.dlq.source.partition',
  sourceOffset: 'tracer.dlq.source.offset',
  sourceTimestamp: 'tracer.dlq.source.timestamp',
  groupId: 'tracer.dlq.group',
  failedAt: 'tracer.dlq.failed.at',
} as const;

/** Reasons come from validators and exceptions: bound them so one record cannot bloat the DLQ. */
export const MAX_REASON_BYTES = 4096;

export const deadLetterTopicOf = (topic: string) => `${topic}.dlq`;

export function boundReason(reason: string): string {
  const bytes = Buffer.from(reason);
  if (bytes.length <= MAX_REASON_BYTES) return reason;
  // Cut on a character boundary, then say that it was cut.
  return `${bytes
    .subarray(0, MAX_REASON_BYTES - 16)
    .toString()
    .replace(/\uFFFD$/, '')} …[truncated]`;
}

export function deadLetterMessage(reject: Reject, groupId: string, now: Date = new Date()): OutgoingMessage {
  const { message } = reject;
  const headers: Record<string, HeaderValue> = { ...message.headers };
  headers[deadLetterHeaders.reason] = boundReason(reject.reason);
  headers[deadLetterHeaders.sourceTopic] = message.topic;
  headers[deadLetterHeaders.sourcePartition] = String(message.partition);
  headers[deadLetterHeaders.sourceOffset] = message.offset;
  headers[deadLetterHeaders.sourceTimestamp] = message.timestamp;
  headers[deadLetterHeaders.groupId] = groupId;
  headers[deadLetterHeaders.failedAt] = now.toISOString();
  return { key: message.key, value: reject.value ?? message.value, headers };
}

export interface DeadLetterInfo {
  reason: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  groupId: string;
}

/** Reads back what deadLetterMessage wrote; undefined when the record is not a dead letter. */
export function readDeadLetter(message: ConsumedMessage): DeadLetterInfo | undefined {
  const h = (name: string) => message.headers[name]?.toString();
  const reason = h(deadLetterHeaders.reason);
  const sourceTopic = h(deadLetterHeaders.sourceTopic);
  if (reason === undefined || sourceTopic === undefined) return undefined;
  return {
    reason,
    sourceTopic,
    sourcePartition: Number(h(deadLetterHeaders.sourcePartition)),
    sourceOffset: h(deadLetterHeaders.sourceOffset) ?? '',
    groupId: h(deadLetterHeaders.groupId) ?? '',
  };
}
