// Builds the raw consumer from its config with a small HTTP endpoint beside it (/healthz,
// /readyz, /metrics). Stop order: stop consuming (the in-flight batch commits), close Kafka,
// then the HTTP endpoint, then the pool last.
import { createServer, type Server } from 'node:http';
import { createKafkaBus } from '@tracer/bus';
import { createPool } from '@tracer/db';
import { createLogger, type Logger } from '@tracer/log';
import { consumerMetrics, createRegistry } from '../adapters/metrics.ts';
import { ensureIngestTopics } from '../adapters/topics.ts';
import type { ConsumerConfig } from '../config.ts';
import { type RawConsumer, startRawConsumer } from './raw-consumer.ts';

export interface RunningConsumer {
  consumer: RawConsumer;
  /** http://host:port of the health and metrics endpoint. */
  url: string;
  close(): Promise<void>;
}

export async function startConsumer(
  config: ConsumerConfig,
  log: Logger = createLogger('ingest-consumer'),
): Promise<RunningConsumer> {
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    max: config.databasePoolMax,
    applicationName: 'tracer-ingest-consumer',
  });
  const bus = createKafkaBus({ brokers: config.kafkaBrokers, clientId: 'tracer-ingest-consumer', logger: log });
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
    },
  });

  let joined = false;
  consumer.runner.ready.then(() => {
    joined = true;
  });
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.url === '/healthz') return send(200, 'application/json', '{"ok":true}');
    if (req.url === '/readyz') {
      pool.query('SELECT 1').then(
        () =>
          send(
            joined ? 200 : 503,
            'application/json',
            JSON.stringify({ ready: joined, checks: { kafka: joined ? 'ok' : 'joining group', postgres: 'ok' } }),
          ),
        (err: Error) =>
          send(503, 'application/json', JSON.stringify({ ready: false, checks: { postgres: err.message } })),
      );
      return;
    }
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        (err: Error) => send(500, 'text/plain', err.message),
      );
      return;
    }
    send(404, 'application/problem+json', JSON.stringify({ type: 'about:blank', title: 'Not found', status: 404 }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address();
  const url =
    typeof addr === 'object' && addr ? `http://${config.host}:${addr.port}` : `http://${config.host}:${config.port}`;
  log.info({ url, groupId: config.groupId }, 'ingest consumer running');

  let closing: Promise<void> | undefined;
  return {
    consumer,
    url,
    close() {
      closing ??= (async () => {
        await consumer.stop();
        await bus.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await pool.end();
        log.info({ stats: consumer.runner.stats() }, 'ingest consumer stopped');
      })();
      return closing;
    },
  };
}
