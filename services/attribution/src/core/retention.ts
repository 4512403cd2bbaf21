// What a long-lived attribution state keeps, and how it leaves a process. The service runs one
// state per host over a stream that lasts weeks: without forgetting, every process the host
// ever ran would stay. `forgetFinished` drops runs whose final records are out and processes
// nothing needs any more; `snapshotOf`/`restoreAttribution` move the state through structured
// clone (node:v8), which keeps plain data only: the tool rules are re-attached, not saved.
import type { ToolRules } from './tool-rules.ts';
import type { AttributionState, ProcState, RunState } from './types.ts';

/**
 * How long (event time) an ended run is kept with its processes: late events still find it (an
 * OOM kill reported after the exit, the head's last log lines, file facts answered after the
 * batch that asked).
 */
export const DEFAULT_GRACE_NS = 60e9;

export interface ForgetResult {
  runs: number;
  procs: number;
}

/** When a run ended, or null while it runs (Argo/Batch runs end with their last task). */
function runEndTs(run: RunState): number | null {
  if (run.headUpid !== null || run.engine === 'script') return run.endTs;
  const tasks = [...run.tasks.values()];
  if (tasks.length === 0 || tasks.some((t) => t.endTs === null)) return null;
  return Math.max(...tasks.map((t) => t.endTs!));
}

const endedBefore = (p: ProcState | undefined, horizon: number) =>
  p === undefined || (p.endTs !== null && p.endTs <= horizon);

/**
 * Forgets runs that ended at least `graceNs` ago with every process of theirs exited (their
 * final records were published when they ended; call this after `attribute` and its file facts),
 * then every process that is not alive, has no live descendant and is counted by no remaining
 * run, step, task or tool. Such a process needs no grace: a late event about it (a sample, a log
 * chunk) changes no record, and its children got their runs when they forked. Live processes
 * whose exit was lost stop counting as alive once their pid is reused.
 */
export function forgetFinished(state: AttributionState, graceNs: number = DEFAULT_GRACE_NS): ForgetResult {
  const horizon = state.lastTs - graceNs;
  let runs = 0;
  for (let changed = true; changed; ) {
    changed = false;
    const parents = new Set([...state.runs.values()].map((r) => r.parentRunId));
    for (const run of state.runs.values()) {
      const end = runEndTs(run);
      if (end === null || end > horizon || parents.has(run.id)) continue;
      if (![...run.procs].every((u) => endedBefore(state.procs.get(u), horizon))) continue;
      dropRun(state, run);
      runs++;
      changed = true;
    }
  }

  const keep = new Set<string>();
  if (state.rootUpid !== null) keep.add(state.rootUpid);
  for (const entity of state.entities.values()) for (const upid of entity.procs) keep.add(upid);
  const lineage = new Set<string>();
  for (const proc of state.procs.values()) {
    if (proc.exit !== null || state.livePids.get(proc.pid) !== proc.upid) continue;
    // Alive: it and its ancestors stay (detectors look at a parent's command).
    for (let p: ProcState | undefined = proc; p && !lineage.has(p.upid); p = state.procs.get(p.parentUpid ?? '')) {
      lineage.add(p.upid);
      keep.add(p.upid);
    }
  }
  let procs = 0;
  for (const [upid, proc] of state.procs) {
    if (keep.has(upid)) continue;
    state.procs.delete(upid);
    if (state.livePids.get(proc.pid) === upid) state.livePids.delete(proc.pid);
    procs++;
  }
  if (runs > 0 || procs > 0) for (const proc of state.procs.values()) forgetReferences(state, proc);
  return { runs, procs };
}

function dropRun(state: AttributionState, run: RunState): void {
  for (const task of run.tasks.values()) {
    for (const toolId of task.tools) state.entities.delete(toolId);
    state.entities.delete(task.id);
  }
  for (const step of run.steps.values()) state.entities.delete(step.id);
  state.entities.delete(run.id);
  state.runs.delete(run.id);
  for (const [path, runIds] of state.wanted) {
    runIds.delete(run.id);
    if (runIds.size === 0) state.wanted.delete(path);
  }
}

/** A kept process forgets the runs, entities and children that are gone. */
function forgetReferences(state: AttributionState, proc: ProcState): void {
  for (const id of proc.memberships) if (!state.entities.has(id)) proc.memberships.delete(id);
  for (const runId of proc.taskByRun.keys()) if (!state.runs.has(runId)) proc.taskByRun.delete(runId);
  if (proc.runId !== null && !state.runs.has(proc.runId)) proc.runId = null;
  if (proc.toolId !== null && !state.entities.has(proc.toolId)) proc.toolId = null;
  if (proc.children.some((c) => !state.procs.has(c))) proc.children = proc.children.filter((c) => state.procs.has(c));
}

/** The state as plain data for structured clone: everything but the compiled tool rules. */
export type AttributionSnapshot = Omit<AttributionState, 'rules'>;

export function snapshotOf(state: AttributionState): AttributionSnapshot {
  const { rules: _rules, ...rest } = state;
  return rest;
}

export function restoreAttribution(snapshot: AttributionSnapshot, rules: ToolRules): AttributionState {
  return { ...snapshot, rules };
}
