// The bus as the rest of Tracer sees it. Nothing here names a Kafka client: adapters
// (kafkajs-bus.ts today) implement these types, so the client can change behind them.

export interface TopicSpec {
  name: string;
  partitions: number;
  /** How long records are kept; the broker default when absent. */
  retentionMs?: number;
  /** Further topic configs, by their Kafka names (e.g. `max.message.bytes`). */
  config?: Record<string, string>;
  /** Copies of each record; the broker's `default.replication.factor` when absent. */
  replicationFactor?: number;
  /** Also provision `<name>.dlq` (one partition per source partition, the same config, retention below). */
  deadLetter?: boolean | { retentionMs?: number };
}

export type HeaderValue = string | Buffer;

export interface OutgoingMessage {
  /** Records with the same key land on the same partition, in the order they were sent. */
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, HeaderValue>;
  partition?: number;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as decimal strings. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  /** Producer or broker time, ms since the epoch, as a decimal string. */
  timestamp: string;
}

export interface Producer {
  /** Resolves once every message is acknowledged by all in-sync replicas (acks=all). */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** A message the handler could not use, ever: it goes to the dead-letter topic with the reason. */
export interface Reject {
  message: ConsumedMessage;
  reason: string;
  /** Bytes to dead-letter instead of the whole message (one bad event of a batch, say). */
  value?: Buffer;
}

export interface BatchOutcome {
  rejects?: Reject[];
}

export interface BatchContext {
  topic: string;
  partition: number;
  /** Keeps group membership alive during long work; call it between slow steps. */
  heartbeat(): Promise<void>;
  /** Aborted when the consumer is stopping: long work may end early by throwing. */
  signal: AbortSignal;
}

/**
 * Handles messages of one partition, in offset order. Returning commits them all (rejects
 * go to the dead-letter topic first); throwing PermanentError isolates the culprit by
 * splitting the batch; any other error retries the same messages with backoff, uncommitted.
 * Handlers must be idempotent: a crash before the commit delivers the batch again.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that rejects nothing just returns.
export type BatchHandler = (messages: ConsumedMessage[], ctx: BatchContext) => Promise<BatchOutcome | void>;

export interface ConsumerTuning {
  /** Time without heartbeat after which the broker drops a member (broker minimum: 6000 by default). */
  sessionTimeoutMs?: number;
  /** Default: a third of the session timeout, at most 3 s. */
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /** Longest a fetch waits for data: the latency floor of an idle consumer. */
  maxWaitMs?: number;
  maxBytesPerPartition?: number;
  /** Partitions handled at once by this member (each still strictly in order). */
  partitionsConsumedConcurrently?: number;
}

export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  handler: BatchHandler;
  /** Where a new group starts: the earliest record (default) or only new ones. */
  fromBeginning?: boolean;
  /** Where rejects go; `<topic>.dlq` by default. */
  deadLetterTopic?: (topic: string) => string;
  retry?: Partial<RetryPolicy>;
  tuning?: ConsumerTuning;
}

export interface ConsumerStats {
  batches: number;
  /** Messages whose offsets are committed, dead-lettered ones included. */
  committed: number;
  deadLettered: number;
  /** Handler calls that failed with a retryable error. */
  retries: number;
}

export interface ConsumerRunner {
  /** Resolves when the group first assigned this member its partitions. */
  readonly ready: Promise<void>;
  /** Stops fetching, lets the in-flight batch finish and commit, leaves the group. */
  stop(): Promise<void>;
  stats(): ConsumerStats;
}

export interface RetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** 0..1: share of each delay drawn at random, so stuck consumers do not retry in lockstep. */
  jitter: number;
}

export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface Bus {
  /** Creates missing topics, raises partition counts, aligns configs; safe to run at every start. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  deleteTopics(names: string[]): Promise<void>;
  /** An idempotent producer (acks=all, one request in flight): retries never duplicate or reorder. */
  producer(): Promise<Producer>;
  /** Joins the group and starts handling batches; offsets commit only after the handler succeeded. */
  consume(options: ConsumeOptions): Promise<ConsumerRunner>;
  /** The next offset the group will read, per partition ('-1' when it has committed nothing). */
  committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]>;
  /** The offset after the last record, per partition. */
  endOffsets(topic: string): Promise<PartitionOffset[]>;
  /** Stops every consumer (in-flight batches commit), then closes producers and connections. */
  close(): Promise<void>;
}
