// Builds the attribution service from its config: topics, the consumer, and a small HTTP
// endpoint beside it (/healthz, /readyz = joined the consumer group and the database answers,
// /metrics). Stop order: stop consuming (the in-flight batch commits), close Kafka, then the
// HTTP endpoint, then the pool last.
import type { Bus } from '@tracer/bus';
import type { Pool } from '@tracer/db';
import { createLogger, type Logger } from '@tracer/log';
import { type ConsumerService, connectStores, serveConsumer } from '@tracer/service';
import { loadToolRules } from '../tool-rules-file.ts';
import { type AttributionConsumer, startAttributionConsumer } from './attribution-consumer.ts';
import type { AttributionConfig } from './config.ts';
import { attributionMetrics } from './metrics.ts';

/** The normalized topic's settings as ingest provisions them (ensureTopics aligns configs). */
const TOPIC_CONFIG = { 'max.message.bytes': String(8 * 1024 * 1024) };

export interface RunningAttribution extends ConsumerService {
  consumer: AttributionConsumer;
  bus: Bus;
  pool: Pool;
}

export async function ensureAttributionTopics(bus: Bus, config: AttributionConfig): Promise<void> {
  const partitions = config.topicPartitions;
  await bus.ensureTopics([
    { name: config.inputTopic, partitions, config: TOPIC_CONFIG, deadLetter: true },
    { name: config.outputTopic, partitions, config: TOPIC_CONFIG },
  ]);
}

export async function startAttribution(
  config: AttributionConfig,
  log: Logger = createLogger('attribution'),
): Promise<RunningAttribution> {
  const rules = loadToolRules(config.toolRulesFile);
  const { pool, bus } = connectStores('tracer-attribution', config, log);
  const metrics = attributionMetrics();
  await ensureAttributionTopics(bus, config);
  const consumer = await startAttributionConsumer({
    bus,
    pool,
    log,
    rules,
    metrics,
    groupId: config.groupId,
    inputTopic: config.inputTopic,
    outputTopic: config.outputTopic,
    role: config.databaseRole,
    localHost: config.localHost,
    graceNs: config.graceMs * 1e6,
    tuning: {
      partitionsConsumedConcurrently: config.concurrency,
      sessionTimeoutMs: config.sessionTimeoutMs,
    },
  });
  const service = await serveConsumer({
    name: 'attribution service',
    log,
    host: config.httpHost,
    port: config.port,
    registry: metrics.registry,
    groupId: config.groupId,
    consumer,
    bus,
    pool,
  });
  return { consumer, bus, pool, ...service };
}
