// The one file that knows kafkajs. Everything it exports speaks the types of types.ts.
import { setTimeout as delay } from 'node:timers/promises';
import { createLogger, type Logger } from '@tracer/log';
import {
  type Admin,
  type Consumer,
  type IHeaders,
  Kafka,
  type KafkaMessage,
  type Producer as KafkaProducer,
  type LogEntry,
  logLevel,
  Partitioners,
} from 'kafkajs';
import { deadLetterMessage, deadLetterTopicOf } from './dead-letter.ts';
import { processBatch } from './process-batch.ts';
import { producerStateLost } from './producer-state.ts';
import { resolveRetryPolicy } from './retry-policy.ts';
import type {
  Bus,
  ConsumedMessage,
  ConsumeOptions,
  ConsumerRunner,
  ConsumerStats,
  OutgoingMessage,
  PartitionOffset,
  Producer,
  TopicSpec,
} from './types.ts';

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  logger?: Logger;
  /** How long a connection attempt or a request may take before it counts as failed. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const DEFAULT_DLQ_RETENTION_MS = 14 * 24 * 3600 * 1000;

export function createKafkaBus(options: KafkaBusOptions): Bus {
  return new KafkaBus(options);
}

class KafkaBus implements Bus {
  readonly #kafka: Kafka;
  readonly #log: Logger;
  #admin: Promise<Admin> | undefined;
  readonly #producers = new Set<Producer>();
  readonly #runners = new Set<ConsumerRunner>();
  #closed = false;

  constructor(options: KafkaBusOptions) {
    this.#log = options.logger ?? createLogger('bus');
    this.#kafka = new Kafka({
      clientId: options.clientId ?? 'tracer',
      brokers: options.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      logLevel: kafkaLogLevel(this.#log),
      logCreator: kafkaLogCreator(this.#log),
    });
  }

  #adminClient(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.#admin;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const wanted = specs.flatMap((spec) => {
      if (!spec.deadLetter) return [spec];
      const retentionMs =
        (typeof spec.deadLetter === 'object' && spec.deadLetter.retentionMs) || DEFAULT_DLQ_RETENTION_MS;
      const dlq: TopicSpec = { name: deadLetterTopicOf(spec.name), partitions: spec.partitions, retentionMs };
      if (spec.replicationFactor !== undefined) dlq.replicationFactor = spec.replicationFactor;
      // Dead letters keep whole records: the source's limits (max.message.bytes) apply to them too.
      if (spec.config !== undefined) dlq.config = spec.config;
      return [spec, dlq];
    });
    for (const spec of wanted) {
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new Error(`topic ${spec.name}: partitions must be a positive integer, got ${spec.partitions}`);
      }
    }
    const admin = await this.#adminClient();
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      // A concurrent creator may win the race: createTopics then reports false, not an error.
      // kafkajs's own waitForLeaders gives up on the UNKNOWN_TOPIC_OR_PARTITION a KRaft broker
      // answers for a moment after creation, so readiness is awaited below instead.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor ?? -1,
          configEntries: Object.entries(topicConfig(s)).map(([name, value]) => ({ name, value })),
        })),
      });
      this.#log.info({ topics: missing.map((s) => s.name) }, 'created topics');
    }
    const present = wanted.filter((s) => existing.has(s.name));
    for (const spec of present) {
      const have = (await this.#partitionCounts([spec.name])).get(spec.name) ?? 0;
      if (have < spec.partitions) {
        // New partitions change which partition a key maps to: only records produced after
        // this point follow the new layout, so per-key order holds from here on.
        await admin.createPartitions({ topicPartitions: [{ topic: spec.name, count: spec.partitions }] });
        this.#log.warn({ topic: spec.name, from: have, to: spec.partitions }, 'raised partition count');
      } else if (have > spec.partitions) {
        this.#log.warn(
          { topic: spec.name, have, want: spec.partitions },
          'topic has more partitions than asked; Kafka cannot lower it',
        );
      }
    }
    const drifted: TopicSpec[] = [];
    if (present.length > 0) {
      const configs = await this.#topicConfigs(present.map((s) => s.name));
      for (const spec of present) {
        const drift = configDrift(topicConfig(spec), configs.get(spec.name));
        if (Object.keys(drift).length === 0) continue;
        // alterConfigs replaces the topic's whole dynamic config: send all of ours, not only the drift.
        await admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: TOPIC_RESOURCE,
              name: spec.name,
              configEntries: Object.entries(topicConfig(spec)).map(([name, value]) => ({ name, value })),
            },
          ],
        });
        drifted.push(spec);
        this.#log.info({ topic: spec.name, changed: drift }, 'aligned topic config');
      }
    }
    // Done means usable: every partition has a leader and every config change is visible.
    await waitUntil(`topics ready: ${wanted.map((s) => s.name).join(', ')}`, async () => {
      const counts = await this.#partitionCounts(wanted.map((s) => s.name));
      return wanted.every((s) => (counts.get(s.name) ?? 0) >= s.partitions);
    });
    if (drifted.length > 0) {
      await waitUntil('topic configs applied', async () => {
        const configs = await this.#topicConfigs(drifted.map((s) => s.name));
        return drifted.every((s) => Object.keys(configDrift(topicConfig(s), configs.get(s.name))).length === 0);
      });
    }
  }

  /** Partitions that have a leader, per topic; topics the broker does not know yet are absent. */
  async #partitionCounts(names: string[]): Promise<Map<string, number>> {
    const admin = await this.#adminClient();
    const counts = new Map<string, number>();
    for (const name of names) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
        const partitions = topics[0]?.partitions ?? [];
        if (partitions.every((p) => p.leader >= 0)) counts.set(name, partitions.length);
      } catch (err) {
        if (!isTransientMetadataError(err)) throw err;
      }
    }
    return counts;
  }

  async #topicConfigs(names: string[]): Promise<Map<string, Map<string, string>>> {
    const admin = await this.#adminClient();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({ type: TOPIC_RESOURCE, name })),
    });
    return new Map(
      described.resources.map((r) => [
        r.resourceName,
        new Map(r.configEntries.map((e) => [e.configName, e.configValue])),
      ]),
    );
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const admin = await this.#adminClient();
    const existing = new Set(await admin.listTopics());
    const topics = names.filter((n) => existing.has(n));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  }

  async producer(): Promise<Producer> {
    this.#assertOpen();
    const make = () =>
      this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
    const wrapped = new KafkaBusProducer(make, this.#log, () => this.#producers.delete(wrapped));
    await wrapped.connect();
    this.#producers.add(wrapped);
    return wrapped;
  }

  async consume(options: ConsumeOptions): Promise<ConsumerRunner> {
    this.#assertOpen();
    const runner = new KafkaConsumerRunner(
      this.#kafka,
      options,
      () => this.producer(),
      this.#log,
      () => this.#runners.delete(runner),
    );
    this.#runners.add(runner);
    try {
      await runner.start();
    } catch (err) {
      await runner.stop();
      throw err;
    }
    return runner;
  }

  async committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]> {
    const admin = await this.#adminClient();
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (result?.partitions ?? [])
      .map((p) => ({ partition: p.partition, offset: p.offset }))
      .sort((a, b) => a.partition - b.partition);
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    const admin = await this.#adminClient();
    // Right after a topic is created (or a broker restarts) a partition can answer "not the
    // leader"; kafkajs's admin passes that on for ListOffsets without refreshing its metadata.
    for (let attempt = 1; ; attempt++) {
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        return offsets
          .map((p) => ({ partition: p.partition, offset: p.high }))
          .sort((a, b) => a.partition - b.partition);
      } catch (err) {
        if (attempt >= 5 || (err as { retriable?: boolean } | null)?.retriable !== true) throw err;
        await admin.fetchTopicMetadata({ topics: [topic] });
        await delay(100 * attempt);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Consumers first: their in-flight batches may still dead-letter through a producer.
    await Promise.allSettled([...this.#runners].map((r) => r.stop()));
    await Promise.allSettled([...this.#producers].map((p) => p.close()));
    if (this.#admin) await (await this.#admin).disconnect();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('bus is closed');
  }
}

const TOPIC_RESOURCE = 2; // kafkajs ConfigResourceTypes.TOPIC

function configDrift(want: Record<string, string>, have: Map<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(want).filter(([name, value]) => have?.get(name) !== value));
}

function isTransientMetadataError(err: unknown): boolean {
  const type = (err as { type?: string }).type;
  return type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE';
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 20; !(await check()); delayMs = Math.min(delayMs * 2, 500)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delayMs));
  }
}

function topicConfig(spec: TopicSpec): Record<string, string> {
  const config: Record<string, string> = { ...spec.config };
  if (spec.retentionMs !== undefined) config['retention.ms'] = String(spec.retentionMs);
  return config;
}

function toKafkaMessage(m: OutgoingMessage) {
  const out: { key?: string | Buffer | null; value: string | Buffer | null; headers?: IHeaders; partition?: number } = {
    key: m.key ?? null,
    value: m.value,
  };
  if (m.headers) out.headers = m.headers;
  if (m.partition !== undefined) out.partition = m.partition;
  return out;
}

class KafkaBusProducer implements Producer {
  // kafkajs's idempotent producer assigns sequence numbers per request; concurrent sends to
  // one partition can race for them (OUT_OF_ORDER_SEQUENCE_NUMBER), so sends go one at a time.
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #producer: KafkaProducer;
  #connected = false;
  readonly #make: () => KafkaProducer;
  readonly #log: Logger;
  readonly #onClose: () => void;

  constructor(make: () => KafkaProducer, log: Logger, onClose: () => void) {
    this.#producer = make();
    this.#make = make;
    this.#log = log;
    this.#onClose = onClose;
  }

  async connect(): Promise<void> {
    await this.#producer.connect();
    this.#connected = true;
  }

  /** A new producer (a new producer id, sequences from 0) for the next send; this one failed. */
  async #renew(err: unknown): Promise<void> {
    this.#log.warn(
      { err: (err as Error).message },
      "Kafka refuses this producer's sequence numbers; starting a new producer",
    );
    const old = this.#producer;
    this.#producer = this.#make();
    this.#connected = false; // the next send connects it, and fails (to be sent again) if it cannot
    await old.disconnect().catch(() => undefined);
  }

  send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('producer is closed'));
    if (messages.length === 0) return Promise.resolve();
    const sent = this.#queue.then(() => this.#send(topic, messages));
    this.#queue = sent.catch(() => undefined);
    return sent.then(() => undefined);
  }

  async #send(topic: string, messages: OutgoingMessage[]): Promise<unknown> {
    if (!this.#connected) await this.connect();
    try {
      return await this.#producer.send({ topic, acks: -1, messages: messages.map(toKafkaMessage) });
    } catch (err) {
      // The caller sees this send fail and sends again (at least once); the next one goes out
      // on a fresh producer instead of failing the same way forever.
      if (producerStateLost(err) && !this.#closed) await this.#renew(err);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#producer.disconnect();
    this.#onClose();
  }
}

class KafkaConsumerRunner implements ConsumerRunner {
  readonly ready: Promise<void>;
  #markReady!: () => void;
  readonly #stats: ConsumerStats = { batches: 0, committed: 0, deadLettered: 0, retries: 0 };
  readonly #stopping = new AbortController();
  readonly #consumer: Consumer;
  readonly #options: ConsumeOptions;
  readonly #log: Logger;
  readonly #makeProducer: () => Promise<Producer>;
  readonly #onStop: () => void;
  #dlqProducer: Promise<Producer> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    options: ConsumeOptions,
    makeProducer: () => Promise<Producer>,
    log: Logger,
    onStop: () => void,
  ) {
    if (options.topics.length === 0) throw new Error('consume: no topics given');
    this.#options = options;
    this.#makeProducer = makeProducer;
    this.#onStop = onStop;
    this.#log = log.child({ groupId: options.groupId });
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    const t = options.tuning ?? {};
    const sessionTimeout = t.sessionTimeoutMs ?? 30_000;
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      heartbeatInterval: t.heartbeatIntervalMs ?? Math.min(3000, Math.floor(sessionTimeout / 3)),
      rebalanceTimeout: t.rebalanceTimeoutMs ?? 60_000,
      maxWaitTimeInMs: t.maxWaitMs ?? 500,
      maxBytesPerPartition: t.maxBytesPerPartition ?? 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, (e) => {
      this.#log.info({ assignment: e.payload.memberAssignment }, 'joined consumer group');
      this.#markReady();
    });
    this.#consumer.on(this.#consumer.events.CRASH, (e) => {
      this.#log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
    });
  }

  async start(): Promise<void> {
    const o = this.#options;
    const retry = resolveRetryPolicy(o.retry);
    const dlqTopic = o.deadLetterTopic ?? deadLetterTopicOf;
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: o.topics, fromBeginning: o.fromBeginning ?? true });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.tuning?.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        const { topic, partition } = batch;
        await processBatch({
          topic,
          partition,
          messages: batch.messages.map((m) => toConsumed(topic, partition, m)),
          handler: o.handler,
          retry,
          stats: this.#stats,
          signal: this.#stopping.signal,
          log: this.#log,
          actions: {
            isRunning: () => isRunning() && !isStale() && !this.#stopping.signal.aborted,
            heartbeat,
            sleep,
            deadLetter: async (rejects) => {
              const producer = await this.#deadLetterProducer();
              await producer.send(
                dlqTopic(topic),
                rejects.map((r) => deadLetterMessage(r, o.groupId)),
              );
              this.#log.warn({ topic, partition, count: rejects.length, reason: rejects[0]?.reason }, 'dead-lettered');
            },
            commit: async (last) => {
              resolveOffset(last.offset);
              const next = (BigInt(last.offset) + 1n).toString();
              await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
            },
          },
        });
      },
    });
  }

  #deadLetterProducer(): Promise<Producer> {
    this.#dlqProducer ??= this.#makeProducer();
    return this.#dlqProducer;
  }

  stats(): ConsumerStats {
    return { ...this.#stats };
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      // Abort only the waits between retries: a batch whose handler is running finishes,
      // commits, and then kafkajs stops fetching and leaves the group.
      this.#stopping.abort();
      await this.#consumer.disconnect();
      if (this.#dlqProducer) await (await this.#dlqProducer).close();
      this.#onStop();
      this.#log.info({ stats: this.#stats }, 'consumer stopped');
    })();
    return this.#stopped;
  }
}

function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = Buffer.isBuffer(first) ? first : Buffer.from(first);
  }
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, headers, timestamp: m.timestamp };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function kafkaLogLevel(log: Logger): logLevel {
  if (log.isLevelEnabled('trace')) return logLevel.DEBUG;
  if (log.isLevelEnabled('debug')) return logLevel.INFO;
  return logLevel.WARN;
}

// kafkajs's INFO lines (joins, leaves, connects) are routine: they go to our debug level. So
// do its per-request "Response ..." errors: every error code a broker answers is logged there
// at ERROR, including the ones its callers retry (a topic not yet known after creation); a
// failure that matters surfaces again as a thrown error or a consumer crash.
function kafkaLogCreator(log: Logger) {
  const kafkaLog = log.child({ lib: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _ts, logger: _logger, ...fields } = entry;
      const obj = { ns: namespace, ...fields };
      if (namespace === 'Connection' && message.startsWith('Response ')) kafkaLog.debug(obj, message);
      else if (level === logLevel.ERROR) kafkaLog.error(obj, message);
      else if (level === logLevel.WARN) kafkaLog.warn(obj, message);
      else if (level === logLevel.INFO) kafkaLog.debug(obj, message);
      else kafkaLog.trace(obj, message);
    };
}
