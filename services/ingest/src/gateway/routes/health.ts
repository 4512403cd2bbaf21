// /healthz: the process answers. /readyz: it can do its job now (Kafka, PostgreSQL, Redis
// reachable); a load balancer sends no agents to an instance that is not ready. /metrics:
// Prometheus text.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<Record<string, string>>;

const Readiness = Type.Object({
  ready: Type.Boolean(),
  /** 'ok' or what is wrong, per dependency. */
  checks: Type.Record(Type.String(), Type.String()),
});

export const healthRoutes: FastifyPluginAsync<{ registry: Registry; readiness: ReadinessCheck }> = async (
  app,
  opts,
) => {
  app.get('/healthz', { schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } } }, async () => ({
    ok: true,
  }));

  app.get('/readyz', { schema: { response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const checks = await opts.readiness();
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(opts.registry.contentType);
    return opts.registry.metrics();
  });
};
