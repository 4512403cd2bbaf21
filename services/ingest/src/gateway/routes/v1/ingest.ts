// POST /v1/ingest: one agent batch in, 202 once Kafka holds it (acks=all). Nothing of a batch
// is accepted unless every event is valid; the tenant is the key's whatever the events say.
// Events are checked by @tracer/events' compiled schemas (validateEvent) after the tenant is
// stamped, not by fastify's body validation: agent batches are zstd, not JSON, and a missing
// tenant in the payload is not an error when the key supplies it.
import { Type } from '@sinclair/typebox';
import { hostKey } from '@tracer/events';
import type { FastifyPluginAsync } from 'fastify';
import type { CoalescingPublisher } from '../../../adapters/kafka-publisher.ts';
import { PublishUnavailableError } from '../../../adapters/kafka-publisher.ts';
import type { GatewayMetrics } from '../../../adapters/metrics.ts';
import type { RateDecision, RateLimiter } from '../../../adapters/redis-rate-limit.ts';
import { checkIngestBatch, forwardableAsIs, planRecords, type RawRecord } from '../../../core/ingest-batch.ts';
import { KEY_HEADER, TEAM_HEADER } from '../../../core/record-headers.ts';
import { BATCH_CONTENT_TYPE, bodyItems } from '../../batch-parser.ts';
import { ProblemError } from '../../errors.ts';

/** Kafka's default message limit is 1 MiB: records stay under it with room for headers. */
export const MAX_RECORD_BYTES = 900 * 1024;
/** How long a rate-limit check may take before the request goes through unchecked. */
const RATE_CHECK_TIMEOUT_MS = 250;

const Accepted = Type.Object({
  accepted: Type.Integer({ minimum: 0, description: 'events now in Kafka' }),
});

const problem = { $ref: 'Problem#' };

export interface IngestRouteOptions {
  rateLimiter: RateLimiter;
  publisher: CoalescingPublisher;
  metrics: GatewayMetrics;
  publishTimeoutMs: number;
}

export const ingestRoutes: FastifyPluginAsync<IngestRouteOptions> = async (app, opts) => {
  const { metrics } = opts;

  const rateCheck = async (tenant: string, events: number): Promise<RateDecision> => {
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('rate limiter did not answer')), RATE_CHECK_TIMEOUT_MS);
      });
      return await Promise.race([opts.rateLimiter.take(tenant, events), timeout]).finally(() => clearTimeout(timer));
    } catch {
      // Redis down: ingest stays up unlimited rather than refusing every agent; counted.
      metrics.rateLimiterErrors.inc();
      return { allowed: true };
    }
  };

  app.post(
    '/ingest',
    {
      schema: {
        description: `Ingest one agent batch: ${BATCH_CONTENT_TYPE} (format byte + zstd JSON Lines) or JSON {"events": [...]}`,
        response: {
          202: Accepted,
          400: problem,
          401: problem,
          403: problem,
          413: problem,
          415: problem,
          429: problem,
          503: problem,
        },
      },
    },
    async (request, reply) => {
      const identity = request.identity!;
      const body = bodyItems(request.body);
      const count = body.items.length;

      const decision = await rateCheck(identity.tenant, count);
      if (!decision.allowed) {
        metrics.events.inc({ outcome: 'rate_limited' }, count);
        const seconds = Math.ceil(decision.retryAfterMs / 1000);
        throw new ProblemError(
          429,
          'rate-limited',
          'Rate limit exceeded',
          `tenant ${identity.tenant} is over its events per second`,
          {
            extra: { retryAfterSeconds: seconds },
            headers: { 'retry-after': String(seconds) },
          },
        );
      }

      const checked = checkIngestBatch(body.items, identity);
      if (!checked.ok) {
        metrics.events.inc({ outcome: 'invalid' }, count);
        throw new ProblemError(
          400,
          'invalid-events',
          'Invalid events',
          `${checked.badCount} of ${count} events are invalid; nothing of this batch was accepted`,
          { extra: { errors: checked.errors, badEvents: checked.badCount } },
        );
      }
      metrics.tenantRewrites.inc(checked.tenantRewrites);

      const records: RawRecord[] =
        body.raw && forwardableAsIs(checked, body.raw.length, MAX_RECORD_BYTES)
          ? [{ key: hostKey(identity.tenant, checked.events[0]!.host), value: body.raw, events: count }]
          : planRecords(checked.events, MAX_RECORD_BYTES);
      const headers = { [TEAM_HEADER]: identity.team, [KEY_HEADER]: identity.keyId };
      const started = performance.now();
      try {
        await opts.publisher.publish(
          records.map((r) => ({ key: r.key, value: r.value, headers })),
          opts.publishTimeoutMs,
        );
      } catch (err) {
        metrics.events.inc({ outcome: 'unpublished' }, count);
        const detail = err instanceof PublishUnavailableError ? err.message : 'Kafka refused the batch';
        request.log.warn({ err: (err as Error).message }, 'publish failed');
        throw new ProblemError(503, 'unavailable', 'Kafka unavailable', `${detail}; send the batch again`, {
          headers: { 'retry-after': '5' },
        });
      }
      metrics.publishSeconds.observe((performance.now() - started) / 1000);
      metrics.events.inc({ outcome: 'accepted' }, checked.events.length);
      return reply.code(202).send({ accepted: checked.events.length });
    },
  );
};
