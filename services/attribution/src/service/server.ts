// Builds the attribution service from its config: topics, the consumer, and a small HTTP
// endpoint beside it (/healthz, /readyz = joined the consumer group and the database answers,
// /metrics). Stop order: stop consuming (the in-flight batch commits), close Kafka, then the
// HTTP endpoint, then the pool last.
import { createServer } from 'node:http';
import { type Bus, createKafkaBus, deadLetterTopicOf } from '@tracer/bus';
import { createPool, type Pool } from '@tracer/db';
import { createLogger, type Logger } from '@tracer/log';
import { loadToolRules } from '../tool-rules-file.ts';
import { type AttributionConsumer, startAttributionConsumer } from './attribution-consumer.ts';
import type { AttributionConfig } from './config.ts';
import { attributionMetrics } from './metrics.ts';

/** The normalized topic's settings as ingest provisions them (ensureTopics aligns configs). */
const TOPIC_CONFIG = { 'max.message.bytes': String(8 * 1024 * 1024) };
const DLQ_RETENTION_MS = 14 * 24 * 3600 * 1000;

export interface RunningAttribution {
  consumer: AttributionConsumer;
  bus: Bus;
  pool: Pool;
  /** http://host:port of the health and metrics endpoint. */
  url: string;
  close(): Promise<void>;
}

export async function ensureAttributionTopics(bus: Bus, config: AttributionConfig): Promise<void> {
  const partitions = config.topicPartitions;
  await bus.ensureTopics([
    { name: config.inputTopic, partitions, config: TOPIC_CONFIG },
    { name: deadLetterTopicOf(config.inputTopic), partitions, retentionMs: DLQ_RETENTION_MS, config: TOPIC_CONFIG },
    { name: config.outputTopic, partitions, config: TOPIC_CONFIG },
  ]);
}

export async function startAttribution(
  config: AttributionConfig,
  log: Logger = createLogger('attribution'),
): Promise<RunningAttribution> {
  const rules = loadToolRules(config.toolRulesFile);
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    max: config.databasePoolMax,
    applicationName: 'tracer-attribution',
  });
  const bus = createKafkaBus({ brokers: config.kafkaBrokers, clientId: 'tracer-attribution', logger: log });
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
      heartbeatIntervalMs: Math.min(3000, Math.floor(config.sessionTimeoutMs / 3)),
    },
  });
  let joined = false;
  consumer.runner.ready.then(() => {
    joined = true;
  });

  const routes: Record<string, () => Promise<{ status: number; type?: string; body: string }>> = {
    '/healthz': async () => ({ status: 200, body: '{"ok":true}' }),
    '/readyz': async () => {
      const postgres = await pool.query('SELECT 1').then(
        () => 'ok',
        (err: Error) => err.message,
      );
      const ready = joined && postgres === 'ok';
      const checks = { kafka: joined ? 'ok' : 'joining group', postgres };
      return { status: ready ? 200 : 503, body: JSON.stringify({ ready, checks }) };
    },
    '/metrics': async () => ({
      status: 200,
      type: metrics.registry.contentType,
      body: await metrics.registry.metrics(),
    }),
  };
  const server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    const answer = route
      ? route()
      : Promise.resolve({ status: 404, type: 'application/problem+json', body: '{"title":"Not found","status":404}' });
    answer
      .catch((err: Error) => ({ status: 500, type: 'text/plain', body: err.message }))
      .then(({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type ?? 'application/json' });
        res.end(body);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.httpHost, resolve);
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://${config.httpHost}:${port}`;
  log.info({ url, groupId: config.groupId }, 'attribution service running');

  let closing: Promise<void> | undefined;
  return {
    consumer,
    bus,
    pool,
    url,
    close() {
      closing ??= (async () => {
        await consumer.stop();
        await bus.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await pool.end();
        log.info({ stats: consumer.runner.stats() }, 'attribution service stopped');
      })();
      return closing;
    },
  };
}
