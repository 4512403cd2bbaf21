// Prometheus metrics of the insights service (prom-client), one registry per process.
import { BATCH_SECONDS_BUCKETS, createRegistry, metricsIn } from '@tracer/service';

export function insightsMetrics() {
  const registry = createRegistry('tracer_insights_');
  const m = metricsIn(registry);
  return {
    registry,
    events: m.counter(
      'tracer_insights_events_total',
      'Telemetry events consumed, by outcome (applied, duplicate, invalid)',
      ['outcome'],
    ),
    changes: m.counter(
      'tracer_insights_task_changes_total',
      'tasks.v1 changes consumed, by outcome (applied, duplicate, invalid)',
      ['outcome'],
    ),
    published: m.counter(
      'tracer_insights_published_total',
      'Insight versions upserted and published on insights.v1, by kind and source (batch, tick, llm)',
      ['kind', 'source'],
    ),
    ticks: m.counter(
      'tracer_insights_ticks_total',
      'Clock-only steps of hosts, by outcome (quiet, written, reloaded: redone on a snapshot another instance saved)',
      ['outcome'],
    ),
    llm: m.counter(
      'tracer_insights_llm_total',
      'LLM explanations, by outcome (llm, cache, fallback, dropped: queue full)',
      ['outcome'],
    ),
    hosts: m.gauge('tracer_insights_hosts', 'Host states held in memory'),
    stateBytes: m.histogram(
      'tracer_insights_state_bytes',
      'Size of a saved host state snapshot',
      [1e3, 1e4, 1e5, 1e6, 4e6, 16e6, 64e6],
    ),
    batchSeconds: m.histogram(
      'tracer_insights_batch_seconds',
      'Time to handle one consumed batch (decode, engine, database, publish)',
      BATCH_SECONDS_BUCKETS,
    ),
  };
}
export type InsightsMetrics = ReturnType<typeof insightsMetrics>;
