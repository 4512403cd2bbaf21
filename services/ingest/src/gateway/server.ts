// Builds the gateway's adapters from its config, starts listening, and stops in reverse:
// no new requests (in-flight ones finish and reach Kafka), last-use times flushed, then
// Kafka, Redis and the pool closed last.
import { readFileSync } from 'node:fs';
import { createLogger, type Logger } from '@tracer/log';
import { connectStores } from '@tracer/service';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { CoalescingPublisher } from '../adapters/kafka-publisher.ts';
import { createRegistry, gatewayMetrics } from '../adapters/metrics.ts';
import { KeyStore } from '../adapters/postgres-keys.ts';
import { RedisRateLimiter } from '../adapters/redis-rate-limit.ts';
import { ensureIngestTopics } from '../adapters/topics.ts';
import type { GatewayConfig } from '../config.ts';
import { buildGatewayApp } from './app.ts';

export interface RunningGateway {
  app: FastifyInstance;
  /** http(s)://host:port the gateway listens on. */
  url: string;
  keys: KeyStore;
  close(): Promise<void>;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function startGateway(
  config: GatewayConfig,
  log: Logger = createLogger('ingest-gateway'),
): Promise<RunningGateway> {
  const { pool, bus } = connectStores('tracer-ingest-gateway', config, log);
  // Commands fail fast while Redis is away (no offline queue): the rate limit is skipped
  // and counted rather than holding requests.
  const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  const subscriber = new Redis(config.redisUrl, { lazyConnect: true });
  redis.on('error', (err) => log.debug({ err: err.message }, 'redis'));
  subscriber.on('error', (err) => log.debug({ err: err.message }, 'redis subscriber'));
  const registry = createRegistry();
  const metrics = gatewayMetrics(registry);

  await Promise.all([redis.connect(), subscriber.connect()]);
  await ensureIngestTopics(bus, {
    rawTopic: config.rawTopic,
    normalizedTopic: config.normalizedTopic,
    partitions: config.topicPartitions,
  });
  const producer = await bus.producer();
  const publisher = new CoalescingPublisher(producer, config.rawTopic);
  const keys = new KeyStore(pool, { cacheMs: config.keyCacheMs, log });
  const unsubscribe = await keys.listenForRevocations(subscriber);
  const rateLimiter = new RedisRateLimiter(redis, {
    eventsPerSecond: config.rateEventsPerSecond,
    burstEvents: config.rateBurstEvents,
  });

  const readiness = async () => {
    const check = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await withTimeout(fn(), 2000, what);
        return 'ok';
      } catch (err) {
        return (err as Error).message;
      }
    };
    const [postgres, redisState] = await Promise.all([
      check('postgres', () => pool.query('SELECT 1')),
      check('redis', () => redis.ping()),
    ]);
    return {
      kafka: publisher.lastError ? `last send failed: ${publisher.lastError.message}` : 'ok',
      postgres,
      redis: redisState,
    };
  };

  const app = await buildGatewayApp({
    keys,
    rateLimiter,
    publisher,
    metrics,
    registry,
    log,
    readiness,
    maxBodyBytes: config.maxBodyBytes,
    publishTimeoutMs: config.publishTimeoutMs,
    https:
      config.tlsCertFile && config.tlsKeyFile
        ? { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) }
        : undefined,
  });
  const address = await app.listen({ host: config.host, port: config.port });

  const flush = () =>
    keys
      .flushLastUsed()
      .catch((err: Error) => log.warn({ err: err.message }, 'recording key last use failed; will retry'));
  const flushTimer = setInterval(flush, config.lastUsedFlushMs);
  flushTimer.unref();
  log.info({ address, rawTopic: config.rawTopic }, 'ingest gateway listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    url: address,
    keys,
    close() {
      closing ??= (async () => {
        await app.close();
        clearInterval(flushTimer);
        await flush();
        await unsubscribe().catch(() => {});
        await bus.close();
        subscriber.disconnect();
        redis.disconnect();
        await pool.end();
        log.info('ingest gateway stopped');
      })();
      return closing;
    },
  };
}
