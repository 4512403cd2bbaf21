// A whole trace at once: the engine replayed over the trace in time slices, as it would have
// run live, so stalls that later resumed and steps that ran long are seen as they were.
import type { Insight } from '@tracer/events';
import { attachTaskRefs } from './attribution-link.ts';
import { explainDeterministic, type RootCause } from './classify.ts';
import { allInsights, createInsightsState, type EngineInput, stepInsights } from './engine.ts';
import { buildEvidencePacket, type EvidencePacket } from './evidence.ts';
import { findProcess } from './processes.ts';
import type { EngineState, InsightsOptions, TaskRef } from './types.ts';

export interface AnalyzeOptions extends InsightsOptions {
  /** Replay slice, ns (default 1 s). */
  stepNs?: number;
  /** The clock at the end (default: the last event's time). */
  now?: number;
  /**
   * Called with each slice: returns the run/step/task of each upid (from the attribution core
   * run on the same slices), so insights name their task.
   */
  taskRefsOf?: (batch: readonly EngineInput[]) => ReadonlyMap<string, TaskRef> | undefined;
}

export function analyzeTraceState(
  events: readonly EngineInput[],
  options: AnalyzeOptions = {},
): { state: EngineState; insights: Insight[] } {
  const stepNs = options.stepNs ?? 1e9;
  const state = createInsightsState();
  const step = (slice: EngineInput[], now: number) => {
    const refs = options.taskRefsOf?.(slice);
    stepInsights(state, slice, now, options);
    // The engine learns a process from this very slice, so refs attach after it; processes
    // they changed are re-evaluated at once rather than a slice later (or never, at the end).
    if (refs && attachTaskRefs(state, refs, options) > 0) stepInsights(state, [], now, options);
  };
  let batch: EngineInput[] = [];
  let sliceEnd: number | undefined;
  let last = 0;
  for (const ev of events) {
    const ts = typeof ev.ts === 'number' ? ev.ts : 0;
    if (sliceEnd === undefined) sliceEnd = ts + stepNs;
    if (ts >= sliceEnd) {
      step(batch, sliceEnd);
      batch = [];
      while (ts >= sliceEnd) sliceEnd += stepNs;
    }
    batch.push(ev);
    last = Math.max(last, ts);
  }
  step(batch, options.now ?? last);
  return { state, insights: allInsights(state) };
}

/** Every insight of a trace, final: what `tracer run` appends to the trace as `insight` events. */
export function analyzeTrace(events: readonly EngineInput[], options: AnalyzeOptions = {}): Insight[] {
  return analyzeTraceState(events, options).insights;
}

/** The evidence packet and deterministic root cause behind a failure insight. */
export function explainInsight(
  state: EngineState,
  insight: Insight,
): { packet: EvidencePacket; rootCause: RootCause } | undefined {
  if (insight.pid === undefined) return undefined;
  const culprit = findProcess(state, insight.pid, insight.upid);
  if (!culprit) return undefined;
  const reportedKey = state.failureOf.get(culprit.key);
  const reported = reportedKey ? state.processes.get(reportedKey) : undefined;
  const packet = buildEvidencePacket(state, culprit, reported);
  return { packet, rootCause: explainDeterministic(packet) };
}
