// Prometheus metrics of the attribution service (prom-client): what happened to events,
// what was published and written, how long a batch took, how big host states are.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function attributionMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'tracer_attribution_' });
  const registers = [registry];
  return {
    registry,
    events: new Counter({
      name: 'tracer_attribution_events_total',
      help: 'Normalized events consumed, by outcome (applied, duplicate, invalid)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    changes: new Counter({
      name: 'tracer_attribution_changes_total',
      help: 'Record changes published on tasks.v1, by entity (run, step, task, tool)',
      labelNames: ['entity'] as const,
      registers,
    }),
    rows: new Counter({
      name: 'tracer_attribution_rows_total',
      help: 'Rows upserted, by table',
      labelNames: ['table'] as const,
      registers,
    }),
    facts: new Counter({
      name: 'tracer_attribution_file_facts_total',
      help: 'Files the detectors asked for, by outcome (read, missing, remote: the host is not this machine)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    forgotten: new Counter({
      name: 'tracer_attribution_forgotten_total',
      help: 'Finished runs and exited processes dropped from host states',
      labelNames: ['kind'] as const,
      registers,
    }),
    stateBytes: new Gauge({
      name: 'tracer_attribution_state_bytes',
      help: 'Size of the last host state snapshot saved',
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'tracer_attribution_batch_seconds',
      help: 'Time to attribute and write one consumed batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
export type AttributionMetrics = ReturnType<typeof attributionMetrics>;
