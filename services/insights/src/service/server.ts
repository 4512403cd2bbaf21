// Builds the insights service from its config: topics, the consumer, the optional LLM
// worker, and a small HTTP endpoint beside it (/healthz, /readyz = joined the consumer group
// and the database answers, /metrics). Stop order: stop consuming (the in-flight batch
// commits), close Kafka, then the HTTP endpoint, then the pool last.
import type { Bus } from '@tracer/bus';
import type { Pool } from '@tracer/db';
import { createLogger, type Logger } from '@tracer/log';
import { type ConsumerService, connectStores, serveConsumer } from '@tracer/service';
import { createLlmExplainer } from '../adapters/llm.ts';
import type { ServiceConfig } from './config.ts';
import { createExplanationQueue, type ExplanationQueue } from './explanations.ts';
import { type InsightsConsumer, startInsightsConsumer } from './insights-consumer.ts';
import { insightsMetrics } from './metrics.ts';

/** The topics' settings as ingest and attribution provision them (ensureTopics aligns configs). */
const TOPIC_CONFIG = { 'max.message.bytes': String(8 * 1024 * 1024) };

export interface RunningInsights extends ConsumerService {
  consumer: InsightsConsumer;
  explanations: ExplanationQueue | undefined;
  bus: Bus;
  pool: Pool;
}

/**
 * Both inputs keyed tenant/host with the same partition count put one host on the same
 * partition number of each; see the README for when one instance gets both.
 */
export async function ensureInsightsTopics(bus: Bus, config: ServiceConfig): Promise<void> {
  const partitions = config.topicPartitions;
  await bus.ensureTopics([
    { name: config.telemetryTopic, partitions, config: TOPIC_CONFIG, deadLetter: true },
    { name: config.tasksTopic, partitions, config: TOPIC_CONFIG, deadLetter: true },
    { name: config.insightsTopic, partitions, config: TOPIC_CONFIG },
  ]);
}

export async function startInsights(
  config: ServiceConfig,
  log: Logger = createLogger('insights'),
): Promise<RunningInsights> {
  const { pool, bus } = connectStores('tracer-insights', config, log);
  const metrics = insightsMetrics();
  await ensureInsightsTopics(bus, config);
  const explanations = config.llm
    ? createExplanationQueue({
        explainer: createLlmExplainer(config.llm),
        pool,
        role: config.databaseRole,
        producer: await bus.producer(),
        topic: config.insightsTopic,
        log,
        metrics,
      })
    : undefined;
  const consumer = await startInsightsConsumer({
    bus,
    pool,
    log,
    metrics,
    groupId: config.groupId,
    telemetryTopic: config.telemetryTopic,
    tasksTopic: config.tasksTopic,
    insightsTopic: config.insightsTopic,
    role: config.databaseRole,
    detectors: config.detectors,
    tickMs: config.tickMs,
    clockAheadMs: config.clockAheadMs,
    forgetAfterMs: config.forgetAfterMs,
    historyTtlMs: config.historyTtlMs,
    tuning: { partitionsConsumedConcurrently: config.concurrency },
    ...(explanations ? { explanations } : {}),
  });
  const service = await serveConsumer({
    name: 'insights service',
    log,
    host: config.host,
    port: config.port,
    registry: metrics.registry,
    groupId: config.groupId,
    details: { llm: config.llm ? config.llm.model : null },
    consumer,
    bus,
    pool,
  });
  return { consumer, explanations, bus, pool, ...service };
}
