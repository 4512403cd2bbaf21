// The ingest gateway's fastify app. Boot order reads top to bottom: infrastructure (body
// parsers, the one error handler), then health and metrics, then /v1 behind the API-key hook.
// Everything with I/O arrives as a dependency, so tests build the real app on real servers.
import type { Logger } from '@tracer/log';
import { type FastifyInstance, type FastifyServerOptions, fastify, LogController } from 'fastify';
import type { Registry } from 'prom-client';
import type { CoalescingPublisher } from '../adapters/kafka-publisher.ts';
import type { GatewayMetrics } from '../adapters/metrics.ts';
import type { KeyStore } from '../adapters/postgres-keys.ts';
import type { RateLimiter } from '../adapters/redis-rate-limit.ts';
import type { KeyIdentity } from '../core/api-key.ts';
import { registerBatchParser } from './batch-parser.ts';
import { Problem, problemHandler } from './errors.ts';
import { healthRoutes, type ReadinessCheck } from './routes/health.ts';
import { apiKeyAuth } from './routes/v1/auth.ts';
import { ingestRoutes } from './routes/v1/ingest.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the API-key hook on every /v1 request that got past it. */
    identity: KeyIdentity | null;
  }
}

export interface GatewayDeps {
  keys: KeyStore;
  rateLimiter: RateLimiter;
  publisher: CoalescingPublisher;
  metrics: GatewayMetrics;
  registry: Registry;
  log: Logger;
  readiness: ReadinessCheck;
  maxBodyBytes: number;
  publishTimeoutMs: number;
  https?: { cert: Buffer; key: Buffer } | undefined;
}

export async function buildGatewayApp(deps: GatewayDeps): Promise<FastifyInstance> {
  const options: FastifyServerOptions & { https?: { cert: Buffer; key: Buffer } } = {
    loggerInstance: deps.log,
    // Per-request happenings are metrics (tracer_ingest_requests_total), not log lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.maxBodyBytes,
    // Agents keep connections open between batches.
    keepAliveTimeout: 65_000,
    ...(deps.https ? { https: deps.https } : {}),
  };
  const app = fastify(options) as unknown as FastifyInstance;
  app.decorateRequest('identity', null);
  app.addSchema(Problem);
  app.setErrorHandler(problemHandler);
  app.setNotFoundHandler((request, reply) =>
    problemHandler(
      Object.assign(new Error(`no route ${request.method} ${request.url}`), { statusCode: 404 }),
      request,
      reply,
    ),
  );
  registerBatchParser(app);
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url?.startsWith('/v1/')) deps.metrics.requests.inc({ status: String(reply.statusCode) });
  });

  await app.register(healthRoutes, { registry: deps.registry, readiness: deps.readiness });
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', apiKeyAuth(deps.keys, 'ingest'));
      await v1.register(ingestRoutes, {
        rateLimiter: deps.rateLimiter,
        publisher: deps.publisher,
        metrics: deps.metrics,
        publishTimeoutMs: deps.publishTimeoutMs,
      });
    },
    { prefix: '/v1' },
  );
  return app;
}
