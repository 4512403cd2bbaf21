// Prometheus metrics of the attribution service (prom-client): what happened to events,
// what was published and written, how long a batch took, how big host states are.
import { BATCH_SECONDS_BUCKETS, createRegistry, metricsIn } from '@tracer/service';

export function attributionMetrics(registry = createRegistry('tracer_attribution_')) {
  const m = metricsIn(registry);
  return {
    registry,
    events: m.counter(
      'tracer_attribution_events_total',
      'Normalized events consumed, by outcome (applied, duplicate, invalid)',
      ['outcome'],
    ),
    changes: m.counter(
      'tracer_attribution_changes_total',
      'Record changes published on tasks.v1, by entity (run, step, task, tool)',
      ['entity'],
    ),
    rows: m.counter('tracer_attribution_rows_total', 'Rows upserted, by table', ['table']),
    facts: m.counter(
      'tracer_attribution_file_facts_total',
      'Files the detectors asked for, by outcome (read, missing, remote: the host is not this machine)',
      ['outcome'],
    ),
    forgotten: m.counter(
      'tracer_attribution_forgotten_total',
      'Finished runs and exited processes dropped from host states',
      ['kind'],
    ),
    stateBytes: m.gauge('tracer_attribution_state_bytes', 'Size of the last host state snapshot saved'),
    batchSeconds: m.histogram(
      'tracer_attribution_batch_seconds',
      'Time to attribute and write one consumed batch',
      BATCH_SECONDS_BUCKETS,
    ),
  };
}
export type AttributionMetrics = ReturnType<typeof attributionMetrics>;
