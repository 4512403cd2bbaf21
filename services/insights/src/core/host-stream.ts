// One host's live stream, as services/insights sees it: telemetry batches and attribution
// changes (tasks.v1) folded into the engine, with the dedupe watermarks kept in the same
// state so a replay after a crash is a no-op. Plain data only (Maps, arrays, objects): the
// service saves it with node:v8 serialization next to the rows it produced.
import type { AttributionChange, Insight, TelemetryEvent } from '@tracer/events';
import {
  type AttributionIndex,
  attachTaskRefs,
  createAttributionIndex,
  indexAttributionChanges,
  taskRefsByUpid,
} from './attribution-link.ts';
import { createInsightsState, stepInsights } from './engine.ts';
import type { EngineState, InsightsOptions } from './types.ts';

export interface HostStreamState {
  engine: EngineState;
  /** Runs, steps, tasks and tool executions of this host still relevant to live processes. */
  attribution: AttributionIndex;
  /** Highest `seq` applied per agent id: events at or below it are replays. */
  agentSeq: Map<string, number>;
  /** Highest tasks.v1 offset applied per partition (decimal strings: Kafka offsets are 64-bit). */
  taskOffsets: Map<number, string>;
}

export function createHostStream(): HostStreamState {
  return {
    engine: createInsightsState(),
    attribution: createAttributionIndex(),
    agentSeq: new Map(),
    taskOffsets: new Map(),
  };
}

/** A tasks.v1 message with where it came from, for the offset watermark. */
export interface PositionedChange {
  partition: number;
  offset: string;
  change: AttributionChange;
}

export interface HostInput {
  events?: readonly TelemetryEvent[];
  changes?: readonly PositionedChange[];
}

export interface HostStepResult {
  /** Insights created or changed, the latest version of each, in first-change order. */
  insights: Insight[];
  /** Telemetry events applied (after dedupe) and skipped as replays. */
  applied: number;
  duplicates: number;
  /** Attribution changes applied and skipped as replays. */
  changesApplied: number;
}

/** Keeps the events above each agent's watermark, moving it. Agents send their events in seq order. */
export function freshEvents(state: HostStreamState, events: readonly TelemetryEvent[]): TelemetryEvent[] {
  const out: TelemetryEvent[] = [];
  for (const e of events) {
    const seen = state.agentSeq.get(e.agentId);
    if (seen !== undefined && e.seq <= seen) continue;
    state.agentSeq.set(e.agentId, e.seq);
    out.push(e);
  }
  return out;
}

function freshChanges(state: HostStreamState, changes: readonly PositionedChange[]): AttributionChange[] {
  const out: AttributionChange[] = [];
  for (const c of changes) {
    const seen = state.taskOffsets.get(c.partition);
    if (seen !== undefined && BigInt(c.offset) <= BigInt(seen)) continue;
    state.taskOffsets.set(c.partition, c.offset);
    out.push(c.change);
  }
  return out;
}

function collect(into: Map<string, Insight>, insights: readonly Insight[]): void {
  for (const i of insights) {
    into.delete(i.id);
    into.set(i.id, i);
  }
}

/**
 * Folds one batch in: attribution changes into the index, fresh telemetry into the engine,
 * then the run/step/task of each process onto the engine's processes (re-evaluated at once
 * when that changed something, as analyzeTrace does per slice).
 */
export function stepHost(state: HostStreamState, input: HostInput, options: InsightsOptions = {}): HostStepResult {
  const events = freshEvents(state, input.events ?? []);
  const changes = freshChanges(state, input.changes ?? []);
  const changed = new Map<string, Insight>();
  if (changes.length) indexAttributionChanges(state.attribution, changes);
  const now = events.reduce((m, e) => Math.max(m, e.ts), state.engine.lastTs);
  if (events.length) collect(changed, stepInsights(state.engine, events, now, options).insights);
  // New processes or new records: either side may be the one that arrived late.
  const newProcesses = events.some((e) => e.type === 'process.exec' || e.type === 'process.fork');
  if (changes.length || newProcesses) {
    if (attachTaskRefs(state.engine, taskRefsByUpid(state.attribution), options) > 0)
      collect(changed, stepInsights(state.engine, [], now, options).insights);
  }
  forgetFinishedRecords(state.attribution, state.engine.lastTs, options.forgetAfterNs);
  return {
    insights: [...changed.values()],
    applied: events.length,
    duplicates: (input.events?.length ?? 0) - events.length,
    changesApplied: changes.length,
  };
}

/** The clock alone: stalls and steps running long, while the host sends nothing new. */
export function tickHost(state: HostStreamState, now: number, options: InsightsOptions = {}): Insight[] {
  return stepInsights(state.engine, [], now, options).insights;
}

/** Records of one kind kept at the most: a run whose end never came must not grow the state for ever. */
export const MAX_RECORDS = 20_000;

/**
 * Records that ended longer than `forgetAfterNs` ago name no live process any more; past
 * MAX_RECORDS the oldest (first indexed) go too.
 */
function forgetFinishedRecords(index: AttributionIndex, now: number, forgetAfterNs: number | undefined): void {
  if (forgetAfterNs === undefined) return;
  for (const map of [index.tools, index.tasks, index.steps, index.runs] as Map<string, { endTs: number | null }>[]) {
    for (const [id, r] of map) if (r.endTs !== null && now - r.endTs >= forgetAfterNs) map.delete(id);
    for (const id of map.keys()) {
      if (map.size <= MAX_RECORDS) break;
      map.delete(id);
    }
  }
}

/**
 * Pipelines of the runs this host knows or learns from `incoming` (the changes about to be
 * stepped: tasks.v1 runs behind the telemetry, so a run's first change can be what makes its
 * finished processes a step's tasks), with the ids of those runs.
 */
export function activePipelines(
  state: HostStreamState,
  incoming: readonly PositionedChange[] = [],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (pipeline: string, id: string) => {
    const ids = out.get(pipeline) ?? [];
    if (!ids.includes(id)) ids.push(id);
    out.set(pipeline, ids);
  };
  for (const run of state.attribution.runs.values()) add(run.pipeline, run.id);
  for (const { change } of incoming) if (change.entity === 'run') add(change.record.pipeline, change.record.id);
  return out;
}
