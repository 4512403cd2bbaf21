// Prometheus metrics (prom-client): one registry per process, the counters each part of
// ingest updates per event or batch. Per-event happenings are counted here, never logged.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createRegistry(prefix = 'tracer_ingest_'): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return registry;
}

export function gatewayMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'tracer_ingest_requests_total',
      help: 'Ingest requests by HTTP status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    events: new Counter({
      name: 'tracer_ingest_gateway_events_total',
      help: 'Events received, by outcome (accepted, invalid, rate_limited, unpublished)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    tenantRewrites: new Counter({
      name: 'tracer_ingest_tenant_rewrites_total',
      help: "Events whose payload named another tenant than the key's (stamped with the key's)",
      registers: [registry],
    }),
    publishSeconds: new Histogram({
      name: 'tracer_ingest_publish_seconds',
      help: 'Time from a request being accepted to Kafka acknowledging its records (acks=all)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    rateLimiterErrors: new Counter({
      name: 'tracer_ingest_rate_limiter_errors_total',
      help: 'Rate-limit checks that failed (Redis unreachable); such requests are let through',
      registers: [registry],
    }),
  };
}
export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;

export function consumerMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: 'tracer_ingest_consumer_events_total',
      help: 'Events consumed from telemetry.raw.v1, by outcome (written, duplicate, invalid)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    rows: new Counter({
      name: 'tracer_ingest_rows_total',
      help: 'Rows written (inserted or merged), by table',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    seqGaps: new Counter({
      name: 'tracer_ingest_seq_gap_events_total',
      help: 'Agent sequence numbers skipped: events that never reached ingest',
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'tracer_ingest_consumer_batch_seconds',
      help: 'Time to write one consumed batch (decode, database, normalized publish)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: 'tracer_ingest_consumer_record_age_seconds',
      help: 'Age of the newest record of the last batch when its write committed',
      registers: [registry],
    }),
  };
}
export type ConsumerMetrics = ReturnType<typeof consumerMetrics>;
