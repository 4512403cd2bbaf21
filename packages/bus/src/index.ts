export {
  type DeadLetterInfo,
  deadLetterHeaders,
  deadLetterMessage,
  deadLetterTopicOf,
  readDeadLetter,
} from './dead-letter.ts';
export { DEFAULT_EVENTS_PER_MESSAGE, eventBatchMessages, sendEventBatches } from './event-batches.ts';
export { createKafkaBus, type KafkaBusOptions } from './kafkajs-bus.ts';
export { perMessage } from './per-message.ts';
export { isPermanent, PermanentError } from './permanent-error.ts';
export { defaultRetryPolicy, retryDelayMs } from './retry-policy.ts';
export { closeOnSignals } from './shutdown.ts';
export type * from './types.ts';
