// A trace recorded under the real eBPF agent (`./tracer run --out FILE -- snakemake ...`:
// a missing input in one rule, a segfault in another, a clean third), and the attribution
// changes the attribution core makes of it, for the service's tests.
import { readFileSync } from 'node:fs';
import { defaultToolRules } from '@tracer/attribution';
import { attribute, createAttribution } from '@tracer/attribution/core';
import { type AttributionChange, type Insight, type TelemetryEvent, validateEvent } from '@tracer/events';
import { analyzeTrace } from '../src/core/analyze-trace.ts';
import { createAttributionIndex, indexAttributionChanges, taskRefsByUpid } from '../src/core/attribution-link.ts';

const FIXTURE = new URL('./fixtures/snakemake-two-faults.jsonl', import.meta.url);

/** The recorded telemetry (the `insight` events `tracer run` appended left out), re-scoped to a tenant and host. */
export function recordedEvents(tenant = 'local', host = 'vm'): TelemetryEvent[] {
  const out: TelemetryEvent[] = [];
  for (const line of readFileSync(FIXTURE, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const raw = JSON.parse(line) as Record<string, unknown>;
    if (raw.type === 'insight') continue;
    const v = validateEvent({ ...raw, tenant, host });
    if (!v.ok) throw new Error(`fixture event invalid: ${v.reason}`);
    out.push(v.event);
  }
  return out;
}

/** The attribution core over the events in slices of `sliceEvents`: one list of changes per slice. */
export function attributionChanges(events: readonly TelemetryEvent[], sliceEvents = 100): AttributionChange[][] {
  const attr = createAttribution({ rules: defaultToolRules() });
  const out: AttributionChange[][] = [];
  for (let i = 0; i < events.length; i += sliceEvents)
    out.push(attribute(attr, events.slice(i, i + sliceEvents)).changes);
  return out;
}

/** What `tracer run` concludes of the events, with the attribution core run on the same slices. */
export function expectedInsights(events: readonly TelemetryEvent[]): Insight[] {
  const attr = createAttribution({ rules: defaultToolRules() });
  const index = createAttributionIndex();
  return analyzeTrace(events, {
    taskRefsOf: (slice) => {
      indexAttributionChanges(index, attribute(attr, slice as TelemetryEvent[]).changes);
      return taskRefsByUpid(index);
    },
  });
}

/** The fields the contract names, plus the task, sorted by id: what two runs must agree on. */
export const essentials = (list: readonly Insight[]) =>
  list
    .map((i) => ({
      id: i.id,
      kind: i.kind,
      pid: i.pid,
      category: i.category,
      errorLines: i.errorLines,
      runId: i.runId,
      stepId: i.stepId,
      taskId: i.taskId,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
