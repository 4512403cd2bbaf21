// Prometheus metrics of the insights service (prom-client), one registry per process.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function insightsMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tracer_insights_' });
  const registers = [registry];
  return {
    registry,
    events: new Counter({
      name: 'tracer_insights_events_total',
      help: 'Telemetry events consumed, by outcome (applied, duplicate, invalid)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    changes: new Counter({
      name: 'tracer_insights_task_changes_total',
      help: 'tasks.v1 changes consumed, by outcome (applied, duplicate, invalid)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    published: new Counter({
      name: 'tracer_insights_published_total',
      help: 'Insight versions upserted and published on insights.v1, by kind and source (batch, tick, llm)',
      labelNames: ['kind', 'source'] as const,
      registers,
    }),
    ticks: new Counter({
      name: 'tracer_insights_ticks_total',
      help: 'Clock-only steps of hosts, by outcome (quiet, written, reloaded: redone on a snapshot another instance saved)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    llm: new Counter({
      name: 'tracer_insights_llm_total',
      help: 'LLM explanations, by outcome (llm, cache, fallback, dropped: queue full)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    hosts: new Gauge({ name: 'tracer_insights_hosts', help: 'Host states held in memory', registers }),
    stateBytes: new Histogram({
      name: 'tracer_insights_state_bytes',
      help: 'Size of a saved host state snapshot',
      buckets: [1e3, 1e4, 1e5, 1e6, 4e6, 16e6, 64e6],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'tracer_insights_batch_seconds',
      help: 'Time to handle one consumed batch (decode, engine, database, publish)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
export type InsightsMetrics = ReturnType<typeof insightsMetrics>;
