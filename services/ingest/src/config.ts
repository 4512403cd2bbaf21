// One schema for ingest's environment, parsed once at start. A bad value stops the process
// with a message naming the variable; defaults point at the local stack (infra/local).
import { topics } from '@tracer/events';
import { stackAddresses } from '@tracer/local';
import { busAndDatabase, type Env, type EnvReader, envReader } from '@tracer/service';

export { ConfigError } from '@tracer/service';

export interface StoreConfig {
  kafkaBrokers: string[];
  databaseUrl: string;
  redisUrl: string;
  /** withTenant's role; null when the database user is itself a member of tracer_app. */
  databaseRole: string | null;
  databasePoolMax: number;
  rawTopic: string;
  normalizedTopic: string;
  /** Partitions of the raw and normalized topics when ingest provisions them. */
  topicPartitions: number;
}

function storeConfig(r: EnvReader): StoreConfig {
  const stack = stackAddresses();
  return {
    ...busAndDatabase(r, stack),
    redisUrl: r.url('TRACER_REDIS_URL', stack.redisUrl, ['redis:', 'rediss:']),
    databasePoolMax: r.int('TRACER_INGEST_DB_POOL_MAX', 8, 1, 200),
    rawTopic: r.str('TRACER_INGEST_RAW_TOPIC', topics.raw),
    normalizedTopic: r.str('TRACER_INGEST_NORMALIZED_TOPIC', topics.normalized),
    topicPartitions: r.int('TRACER_INGEST_TOPIC_PARTITIONS', 8, 1, 1024),
  };
}

export interface GatewayConfig extends StoreConfig {
  host: string;
  port: number;
  /** Largest request body (compressed): 413 beyond it. */
  maxBodyBytes: number;
  /** Per-tenant token bucket, in events. */
  rateEventsPerSecond: number;
  rateBurstEvents: number;
  /** How long a looked-up key is trusted; revocations also arrive at once through Redis. */
  keyCacheMs: number;
  /** How long a request waits for Kafka's acknowledgement before answering 503. */
  publishTimeoutMs: number;
  /** How often last-use times of keys are written (one statement for all keys). */
  lastUsedFlushMs: number;
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
}

export const DEFAULT_GATEWAY_PORT = 18100;
export const DEFAULT_CONSUMER_PORT = 18101;

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const r = envReader(env);
  const rate = r.int('TRACER_INGEST_RATE_EVENTS_PER_SECOND', 250_000, 1, 100_000_000);
  const config: GatewayConfig = {
    ...storeConfig(r),
    host: r.str('TRACER_INGEST_HOST', '127.0.0.1'),
    port: r.int('TRACER_INGEST_PORT', DEFAULT_GATEWAY_PORT, 0, 65535),
    maxBodyBytes: r.int('TRACER_INGEST_MAX_BODY_BYTES', 8 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    rateEventsPerSecond: rate,
    rateBurstEvents: r.int('TRACER_INGEST_RATE_BURST', rate * 2, 1, 1_000_000_000),
    keyCacheMs: r.int('TRACER_INGEST_KEY_CACHE_MS', 60_000, 0, 3_600_000),
    publishTimeoutMs: r.int('TRACER_INGEST_PUBLISH_TIMEOUT_MS', 15_000, 100, 600_000),
    lastUsedFlushMs: r.int('TRACER_INGEST_LAST_USED_FLUSH_MS', 10_000, 100, 3_600_000),
    tlsCertFile: r.file('TRACER_INGEST_TLS_CERT'),
    tlsKeyFile: r.file('TRACER_INGEST_TLS_KEY'),
  };
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    r.problem('TRACER_INGEST_TLS_CERT and TRACER_INGEST_TLS_KEY go together');
  }
  r.done();
  return config;
}

export interface ConsumerConfig extends StoreConfig {
  /** Health and metrics endpoint of the consumer process. */
  host: string;
  port: number;
  groupId: string;
  /** Partitions handled at once by one consumer process. */
  concurrency: number;
  /**
   * Most bytes fetched per partition per batch: bigger batches, fewer statements, but a consumer
   * that fell behind then holds (and collects) a lot at once. At least one record (900 KiB).
   */
  fetchBytesPerPartition: number;
  /** A killed consumer's partitions move to the others after this long without its heartbeat. */
  sessionTimeoutMs: number;
  /** Role that COPYs the append-only event tables; null: insert them as databaseRole. */
  writerRole: string | null;
}

export function loadConsumerConfig(env: Env = process.env): ConsumerConfig {
  const r = envReader(env);
  const config: ConsumerConfig = {
    ...storeConfig(r),
    host: r.str('TRACER_INGEST_CONSUMER_HOST', '127.0.0.1'),
    port: r.int('TRACER_INGEST_CONSUMER_PORT', DEFAULT_CONSUMER_PORT, 0, 65535),
    groupId: r.str('TRACER_INGEST_CONSUMER_GROUP', 'tracer-ingest-raw'),
    concurrency: r.int('TRACER_INGEST_CONSUMER_CONCURRENCY', 2, 1, 64),
    fetchBytesPerPartition: r.int('TRACER_INGEST_CONSUMER_FETCH_BYTES', 1024 * 1024, 64 * 1024, 256 * 1024 * 1024),
    sessionTimeoutMs: r.int('TRACER_INGEST_CONSUMER_SESSION_TIMEOUT_MS', 30_000, 6000, 3_600_000),
    writerRole: r.role('TRACER_INGEST_WRITER_ROLE', 'tracer_ingest_writer'),
  };
  r.done();
  return config;
}
