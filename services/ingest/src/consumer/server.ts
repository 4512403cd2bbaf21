// Builds the raw consumer from its config with a small HTTP endpoint beside it (/healthz,
// /readyz = joined the consumer group and the database answers, /metrics). Stop order: stop
// consuming (the in-flight batch commits), close Kafka, then the HTTP endpoint, the pool last.
import { createLogger, type Logger } from '@tracer/log';
import { type ConsumerService, connectStores, serveConsumer } from '@tracer/service';
import { consumerMetrics, createRegistry } from '../adapters/metrics.ts';
import { ensureIngestTopics } from '../adapters/topics.ts';
import type { ConsumerConfig } from '../config.ts';
import { type RawConsumer, startRawConsumer } from './raw-consumer.ts';

export interface RunningConsumer extends ConsumerService {
  consumer: RawConsumer;
}

export async function startConsumer(
  config: ConsumerConfig,
  log: Logger = createLogger('ingest-consumer'),
): Promise<RunningConsumer> {
  const { pool, bus } = connectStores('tracer-ingest-consumer', config, log);
  const registry = createRegistry();
  const metrics = consumerMetrics(registry);
  await ensureIngestTopics(bus, {
    rawTopic: config.rawTopic,
    normalizedTopic: config.normalizedTopic,
    partitions: config.topicPartitions,
  });
  const consumer = await startRawConsumer({
    bus,
    pool,
    log,
    metrics,
    groupId: config.groupId,
    rawTopic: config.rawTopic,
    normalizedTopic: config.normalizedTopic,
    role: config.databaseRole,
    writerRole: config.writerRole,
    tuning: {
      partitionsConsumedConcurrently: config.concurrency,
      maxBytesPerPartition: config.fetchBytesPerPartition,
      sessionTimeoutMs: config.sessionTimeoutMs,
    },
  });

  const service = await serveConsumer({
    name: 'ingest consumer',
    log,
    host: config.host,
    port: config.port,
    registry,
    groupId: config.groupId,
    consumer,
    bus,
    pool,
  });
  return { consumer, ...service };
}
