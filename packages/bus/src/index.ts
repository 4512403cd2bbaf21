export type * from './types.ts';
export { PermanentError, isPermanent } from './permanent-error.ts';
export { defaultRetryPolicy, retryDelayMs } from './retry-policy.ts';
export { deadLetterHeaders, deadLetterMessage, deadLetterTopicOf, readDeadLetter, type DeadLetterInfo } from './dead-letter.ts';
export { perMessage } from './per-message.ts';
export { eventBatchMessages, sendEventBatches, DEFAULT_EVENTS_PER_MESSAGE } from './event-batches.ts';
export { closeOnSignals } from './shutdown.ts';
export { createKafkaBus, type KafkaBusOptions } from './kafkajs-bus.ts';
