// Run, step and task of each process, from the attribution core's change stream (tasks.v1
// records). Attribution may decide after the exec (a Nextflow task is known once its
// .command.run starts), so refs are attached to the engine state whenever they change; a
// process with no record of its own inherits its nearest ancestor's task.
import type { AttributionChange, RunRecord, StepRecord, TaskRecord, ToolExecutionRecord } from '@tracer/events';
import { resolveSettings } from './config.ts';
import type { EngineState, InsightsOptions, ProcessRecord, TaskRef } from './types.ts';

export interface AttributionIndex {
  runs: Map<string, RunRecord>;
  steps: Map<string, StepRecord>;
  tasks: Map<string, TaskRecord>;
  tools: Map<string, ToolExecutionRecord>;
}

export function createAttributionIndex(): AttributionIndex {
  return { runs: new Map(), steps: new Map(), tasks: new Map(), tools: new Map() };
}

export function indexAttributionChanges(index: AttributionIndex, changes: readonly AttributionChange[]): void {
  for (const c of changes) {
    const map = { run: index.runs, step: index.steps, task: index.tasks, tool: index.tools }[c.entity] as Map<
      string,
      typeof c.record
    >;
    if (c.op === 'delete') map.delete(c.record.id);
    else map.set(c.record.id, c.record);
  }
}

/** The TaskRef of every process attribution placed: task roots and tool executions' processes. */
export function taskRefsByUpid(index: AttributionIndex): Map<string, TaskRef> {
  const out = new Map<string, TaskRef>();
  const ofRun = (run: RunRecord | undefined) => (run ? { pipeline: run.pipeline, engine: run.engine } : {});
  const refOf = (task: TaskRecord, tool?: string): TaskRef => {
    const run = index.runs.get(task.runId);
    return {
      ...ofRun(run),
      runId: task.runId,
      stepId: task.stepId,
      step: task.step,
      taskId: task.id,
      // Attempts of one task share run and name ("FASTQC (sample1)"): that makes a retry.
      taskKey: `${task.runId}/${task.name}`,
      ...(tool ? { tool } : {}),
    };
  };
  // A run's root process carries the run alone, so processes outside any task (a script's
  // housekeeping commands) still name the run they belong to.
  for (const run of index.runs.values()) {
    if (run.rootUpid) out.set(run.rootUpid, { ...ofRun(run), runId: run.id, isRunRoot: true });
  }
  for (const task of index.tasks.values()) {
    if (task.rootUpid) out.set(task.rootUpid, { ...refOf(task), isTaskRoot: true });
  }
  for (const tool of index.tools.values()) {
    const task = tool.taskId ? index.tasks.get(tool.taskId) : undefined;
    for (const upid of tool.upids) {
      const run = index.runs.get(tool.runId);
      const base = task ? refOf(task, tool.name) : { ...ofRun(run), runId: tool.runId, tool: tool.name };
      const existing = out.get(upid);
      out.set(upid, { ...base, ...(existing?.isTaskRoot ? { isTaskRoot: true } : {}) });
    }
  }
  return out;
}

function sameRef(a: TaskRef | undefined, b: TaskRef | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Attaches refs to the engine's processes (and, for processes attribution did not name, their
 * nearest named ancestor's task). Changed processes are re-evaluated in the next step.
 */
export function attachTaskRefs(
  state: EngineState,
  refs: ReadonlyMap<string, TaskRef>,
  options: InsightsOptions = {},
): number {
  let changed = 0;
  const inherited = (p: ProcessRecord): TaskRef | undefined => {
    for (let q = p.parentKey ? state.processes.get(p.parentKey) : undefined, depth = 0; q && depth < 64; depth++) {
      const r = q.upid ? refs.get(q.upid) : undefined;
      if (r) {
        const { isTaskRoot: _root, isRunRoot: _runRoot, tool: _tool, ...rest } = r;
        return rest;
      }
      q = q.parentKey ? state.processes.get(q.parentKey) : undefined;
    }
    return undefined;
  };
  for (const p of state.processes.values()) {
    const ref = (p.upid ? refs.get(p.upid) : undefined) ?? inherited(p);
    if (!ref || sameRef(p.task, ref)) continue;
    p.task = ref;
    p.settings = resolveSettings(options.config, ref.pipeline ?? state.trace.pipeline, ref.step ?? p.tool);
    state.touched.add(p.key);
    changed++;
  }
  return changed;
}
