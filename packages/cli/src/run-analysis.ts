// What `tracer run` adds once capture ends: the attribution core's run > step > task > tool
// tree and the insights core's findings over the trace just written — the same cores
// services/attribution and services/insights run, composed in one process.

import { defaultToolRules, readFileFact } from '@tracer/attribution';
import { attribute, buildTree, createAttribution, renderTree, type TraceTree } from '@tracer/attribution/core';
import { type Insight, isEventType, type TelemetryEvent, validateEvent } from '@tracer/events';
import {
  type AnalyzeOptions,
  analyzeTraceState,
  collectStepDurations,
  createAttributionIndex,
  indexAttributionChanges,
  renderInsightsSummary,
  taskRefsByUpid,
} from '@tracer/insights/core';
import { readTrace } from '@tracer/tracer-agent';

/** File look-ups a detector may chain (a fact can raise a new want); bounded like `tracer trace tree`. */
const MAX_FACT_ROUNDS = 4;

export interface RunAnalysis {
  insights: Insight[];
  tree: TraceTree;
  /** The insights block and the tree, as the closing summary prints them. */
  text: string;
  /** Durations of the steps that succeeded, by history key: the next run's slow_step history. */
  stepDurations: Record<string, number[]>;
}

/** The trace's valid telemetry events in file order; insight events are recomputed, not read. */
export async function readTraceEvents(path: string): Promise<{ events: TelemetryEvent[]; bad: number }> {
  const events: TelemetryEvent[] = [];
  let bad = 0;
  for await (const line of readTrace(path)) {
    if (!('value' in line)) {
      bad++;
      continue;
    }
    const type = String(line.value.type);
    if (type === 'insight' || !isEventType(type)) continue;
    const v = validateEvent(line.value);
    if (v.ok) events.push(v.event);
    else bad++;
  }
  return { events, bad };
}

export async function analyzeRun(
  path: string,
  options: Omit<AnalyzeOptions, 'taskRefsOf'> & { readFiles?: boolean } = {},
): Promise<RunAnalysis> {
  const { events } = await readTraceEvents(path);
  const attribution = createAttribution({ rules: defaultToolRules() });
  const index = createAttributionIndex();
  const readFiles = options.readFiles ?? true;
  const { state, insights } = analyzeTraceState(events, {
    ...options,
    // Attribution runs on the same slices, so every insight names its run, step and task.
    taskRefsOf: (slice) => {
      let { changes, wants } = attribute(attribution, slice as TelemetryEvent[]);
      for (let round = 0; readFiles && wants.length > 0 && round < MAX_FACT_ROUNDS; round++) {
        const more = attribute(attribution, wants.map(readFileFact));
        changes = [...changes, ...more.changes];
        wants = more.wants;
      }
      indexAttributionChanges(index, changes);
      return taskRefsByUpid(index);
    },
  });
  const tree = buildTree(attribution);
  const sections = [renderInsightsSummary(insights)];
  if (tree.runs.length > 0) sections.push(renderTree(tree));
  return { insights, tree, text: sections.join('\n\n'), stepDurations: collectStepDurations(state) };
}
