// The incremental attributor: `(state, inputs) => { state, changes, wants }`. It keeps the
// process tree by upid and turns it into runs > steps > tasks > tool executions, publishing a
// new record state each time one changes (live status: running, succeeded, failed, killed).
// Pure: no clock, no files, no network. The state is owned by the caller and updated in place
// (a pipeline's tree is large; copying it per batch would cost more than it protects).
import {
  type AttributionChange,
  type EventOf,
  type ExecutionStatus,
  type Resources,
  type RunRecord,
  SIGPIPE,
  type StepRecord,
  type TaskRecord,
  type ToolExecutionRecord,
} from '@tracer/events';
import { argoBatchDetector } from './argo-batch.ts';
import { cwlDetector } from './cwl.ts';
import type { AttributionOps, EngineDetector, ExecContext, RunMatch, TaskMatch, TaskRename } from './detector.ts';
import { nextflowDetector } from './nextflow.ts';
import { newPeakTracker, peakExit, peakRemove, peakSet, zeroCounters } from './resources.ts';
import { scriptDetector } from './script.ts';
import { snakemakeDetector } from './snakemake.ts';
import { detectTool, innerTool, type ToolMatch, type ToolRules } from './tool-rules.ts';
import type {
  AttributionInput,
  AttributionState,
  EntityState,
  ExecImage,
  FileFact,
  FileWant,
  ProcState,
  RunState,
  StepState,
  TaskState,
  ToolState,
} from './types.ts';

/** Engine detectors in the order they are asked; the script detector only claims trace roots. */
export const engineDetectors: readonly EngineDetector[] = [
  nextflowDetector,
  snakemakeDetector,
  cwlDetector,
  argoBatchDetector,
];
const detectors = new Map<string, EngineDetector>([
  ['nextflow', nextflowDetector],
  ['snakemake', snakemakeDetector],
  ['cwltool', cwlDetector],
  ['toil', cwlDetector],
  ['argo', argoBatchDetector],
  ['aws-batch', argoBatchDetector],
  ['script', scriptDetector],
]);
const detectorOf = (run: RunState) => detectors.get(run.engine)!;

export interface AttributionOptions {
  rules: ToolRules;
  /** Defaults to the first event's envelope. */
  tenant?: string;
  host?: string;
}

export interface AttributionResult {
  state: AttributionState;
  changes: AttributionChange[];
  /** Files the detectors would like to read: feed them back as `file.fact` inputs. */
  wants: FileWant[];
}

export function createAttribution(options: AttributionOptions): AttributionState {
  return {
    tenant: options.tenant ?? '',
    host: options.host ?? '',
    rules: options.rules,
    trace: null,
    rootUpid: null,
    procs: new Map(),
    livePids: new Map(),
    entities: new Map(),
    runs: new Map(),
    wanted: new Map(),
    lastTs: 0,
    dirty: new Set(),
    deleted: new Map(),
    pendingWants: [],
  };
}

export function attribute(state: AttributionState, inputs: readonly AttributionInput[]): AttributionResult {
  for (const input of inputs) {
    if (input.type === 'file.fact') {
      onFact(state, input);
      continue;
    }
    if (!state.tenant) state.tenant = input.tenant;
    if (!state.host) state.host = input.host;
    if (input.ts > state.lastTs) state.lastTs = input.ts;
    switch (input.type) {
      case 'trace.start':
        state.trace = {
          rootPid: input.rootPid ?? null,
          pipeline: input.pipeline ?? null,
          run: input.run ?? null,
          command: input.command,
          ts: input.ts,
        };
        break;
      case 'process.fork':
        onFork(state, input);
        break;
      case 'process.exec':
        onExec(state, input);
        break;
      case 'process.sample':
        onSample(state, input);
        break;
      case 'process.exit':
        onExit(state, input);
        break;
      case 'oom.kill':
        onOom(state, input);
        break;
      case 'log.chunk':
        onLog(state, input);
        break;
      default:
        break;
    }
  }
  const changes = collectChanges(state);
  const wants = state.pendingWants;
  state.pendingWants = [];
  return { state, changes, wants };
}

// ---------------------------------------------------------------------------------------------
// Process tree

function newProc(
  state: AttributionState,
  upid: string,
  pid: number,
  ppid: number,
  parent: ProcState | null,
  ts: number,
): ProcState {
  const proc: ProcState = {
    upid,
    pid,
    ppid,
    parentUpid: parent?.upid ?? null,
    startTs: ts,
    endTs: null,
    image: parent?.image ?? null,
    execCount: 0,
    commandUpid: parent?.commandUpid ?? upid,
    children: [],
    memberships: new Set(),
    runId: parent?.runId ?? null,
    taskByRun: new Map(parent?.taskByRun ?? []),
    toolId: parent?.toolId ?? null,
    counters: zeroCounters(),
    everSampled: false,
    inheritedRssBytes: parent && parent.exit === null ? parent.counters.rssBytes : 0,
    sampledPeakSinceExec: 0,
    peakInherited: false,
    approximate: false,
    exit: null,
    oomKilled: false,
  };
  state.procs.set(upid, proc);
  state.livePids.set(pid, upid);
  if (parent) {
    parent.children.push(upid);
    for (const id of parent.memberships) join(state, proc, id);
  }
  return proc;
}

function parentOf(state: AttributionState, parentUpid: string | undefined, ppid: number): ProcState | null {
  if (parentUpid) {
    const p = state.procs.get(parentUpid);
    if (p) return p;
  }
  const live = state.livePids.get(ppid);
  return live ? (state.procs.get(live) ?? null) : null;
}

function onFork(state: AttributionState, e: EventOf<'process.fork'>): void {
  if (state.procs.has(e.upid)) return;
  newProc(state, e.upid, e.pid, e.ppid, parentOf(state, e.parentUpid, e.ppid), e.ts);
}

function procByRef(state: AttributionState, upid: string | undefined, pid: number): ProcState | undefined {
  if (upid) return state.procs.get(upid);
  const live = state.livePids.get(pid);
  return live ? state.procs.get(live) : undefined;
}

function join(state: AttributionState, proc: ProcState, entityId: string): void {
  const entity = state.entities.get(entityId);
  if (!entity || proc.memberships.has(entityId)) return;
  proc.memberships.add(entityId);
  entity.procs.add(proc.upid);
  if (proc.everSampled && proc.exit === null) peakSet(entity.peak, proc.upid, proc.counters.rssBytes);
  if (proc.startTs < entity.startTs) entity.startTs = proc.startTs;
  state.dirty.add(entityId);
}

function leave(state: AttributionState, proc: ProcState, entityId: string): void {
  const entity = state.entities.get(entityId);
  if (!entity || !proc.memberships.has(entityId)) return;
  proc.memberships.delete(entityId);
  entity.procs.delete(proc.upid);
  peakRemove(entity.peak, proc.upid);
  state.dirty.add(entityId);
}

/** Applies `f` to a process and every descendant still inheriting from it. */
function forSubtree(state: AttributionState, proc: ProcState, f: (p: ProcState) => void): void {
  const stack = [proc];
  while (stack.length > 0) {
    const p = stack.pop()!;
    f(p);
    for (const c of p.children) {
      const child = state.procs.get(c);
      if (child) stack.push(child);
    }
  }
}

function onExec(state: AttributionState, e: EventOf<'process.exec'>): void {
  let proc = state.procs.get(e.upid);
  if (!proc) {
    proc = newProc(state, e.upid, e.pid, e.ppid, parentOf(state, e.parentUpid, e.ppid), e.ts);
  }
  const image: ExecImage = {
    ts: e.ts,
    exe: e.exe,
    argv: e.argv,
    cwd: e.cwd,
    env: e.env ?? {},
    containerId: e.containerId ?? null,
    cgroupId: e.cgroupId ?? null,
    uid: e.uid,
  };
  proc.image = image;
  proc.execCount++;
  proc.sampledPeakSinceExec = 0;
  proc.commandUpid = proc.upid;
  if (e.sampled) proc.approximate = true;
  const parent = proc.parentUpid ? (state.procs.get(proc.parentUpid) ?? null) : null;
  const tool = detectTool(state.rules, image.exe, image.argv);
  const ctx: ExecContext = {
    proc,
    image,
    parent,
    runs: runsOf(state, proc),
    rules: state.rules,
    tool,
    getProc: (upid) => state.procs.get(upid),
  };

  const isRoot = isTraceRoot(state, proc, parent);
  if (isRoot) state.rootUpid = proc.upid;
  attributeRun(state, ctx, isRoot);
  attributeTask(state, ctx);
  attributeTool(state, proc, tool, e.ts);
}

function isTraceRoot(state: AttributionState, proc: ProcState, parent: ProcState | null): boolean {
  if (!state.trace || state.rootUpid !== null) return false;
  if (state.trace.rootPid !== null) return proc.pid === state.trace.rootPid;
  return parent === null;
}

function runsOf(state: AttributionState, proc: ProcState): RunState[] {
  const runs: RunState[] = [];
  for (const id of proc.memberships) {
    const e = state.entities.get(id);
    if (e?.kind === 'run') runs.push(e);
  }
  // Outermost first: a nested run's parent chain is longer.
  const depth = (r: RunState): number => (r.parentRunId ? 1 + depth(state.runs.get(r.parentRunId)!) : 0);
  return runs.sort((a, b) => depth(a) - depth(b));
}

// ---------------------------------------------------------------------------------------------
// Runs

function attributeRun(state: AttributionState, ctx: ExecContext, isRoot: boolean): void {
  const { proc } = ctx;
  const ownRun = [...state.runs.values()].find((r) => r.headUpid === proc.upid && r.endTs === null);
  for (const d of engineDetectors) {
    const m = d.matchRun(ctx);
    if (!m) continue;
    if (ownRun && detectorOf(ownRun) === d) {
      // The same head exec'd again (nextflow's launcher script becoming java): refine names.
      applyRunMatch(state, ownRun, m, d);
      return;
    }
    if (m.key && state.runs.has(m.key)) {
      const run = state.runs.get(m.key)!;
      joinRun(state, proc, run);
      return;
    }
    const inner = ctx.runs[ctx.runs.length - 1];
    if (inner && inner.engine === 'script' && canAdopt(state, inner, proc)) {
      // `tracer run -- time snakemake ...`: the wrapper's run becomes the engine's run.
      inner.engine = engineOf(d, m);
      inner.headUpid = m.headless ? null : proc.upid;
      inner.engineState = m.engineState ?? null;
      applyRunMatch(state, inner, m, d);
      return;
    }
    createRun(state, proc, d, m, inner?.id ?? null);
    return;
  }
  if (isRoot) {
    const m = scriptDetector.matchRun(ctx)!;
    createRun(state, proc, scriptDetector, m, null);
  }
}

/** A detector serving several engines (cwltool/toil, argo/aws-batch) says which in `attributes.engine`. */
function engineOf(d: EngineDetector, m: RunMatch): RunState['engine'] {
  const e = m.attributes?.engine;
  return e !== undefined && detectors.get(e) === d ? (e as RunState['engine']) : d.engine;
}

/** A script run whose root only wraps the engine (time, env, sh -c) and ran nothing else yet. */
function canAdopt(state: AttributionState, run: RunState, proc: ProcState): boolean {
  if (run.tasks.size > 0 || run.rootUpid === null) return false;
  const root = state.procs.get(run.rootUpid);
  if (!root?.image) return false;
  if (root.upid === proc.upid) return true;
  const m = detectTool(state.rules, root.image.exe, root.image.argv);
  return m?.kind === 'wrapper';
}

function createRun(
  state: AttributionState,
  proc: ProcState,
  d: EngineDetector,
  m: RunMatch,
  parentRunId: string | null,
): RunState {
  const id = m.key ?? `run:${proc.upid}`;
  const run: RunState = {
    kind: 'run',
    id,
    startTs: proc.startTs,
    endTs: null,
    procs: new Set(),
    peak: newPeakTracker(),
    engine: engineOf(d, m),
    pipeline: m.pipeline,
    name: m.name,
    labelled: false,
    status: 'running',
    exitCode: null,
    signal: null,
    rootUpid: m.headless ? null : proc.upid,
    headUpid: m.headless ? null : proc.upid,
    attributes: { ...(m.attributes ?? {}) },
    parentRunId,
    steps: new Map(),
    tasks: new Map(),
    engineState: m.engineState ?? null,
  };
  delete run.attributes.engine;
  state.entities.set(id, run);
  state.runs.set(id, run);
  applyLabels(state, run, parentRunId);
  joinRun(state, proc, run);
  for (const w of m.wants ?? []) wantFor(state, run, w.path, w.maxBytes, d.engine);
  state.dirty.add(id);
  return run;
}

function applyLabels(state: AttributionState, run: RunState, parentRunId: string | null): void {
  if (!state.trace || parentRunId !== null) return;
  if (state.trace.pipeline) run.pipeline = state.trace.pipeline;
  if (state.trace.run) run.name = state.trace.run;
  run.labelled = Boolean(state.trace.pipeline || state.trace.run);
}

function applyRunMatch(state: AttributionState, run: RunState, m: RunMatch, d: EngineDetector): void {
  run.pipeline = m.pipeline;
  run.name = m.name;
  Object.assign(run.attributes, m.attributes ?? {});
  delete run.attributes.engine;
  if (m.engineState !== undefined && run.engineState === null) run.engineState = m.engineState;
  applyLabels(state, run, run.parentRunId);
  for (const w of m.wants ?? []) wantFor(state, run, w.path, w.maxBytes, d.engine);
  state.dirty.add(run.id);
}

function joinRun(state: AttributionState, proc: ProcState, run: RunState): void {
  forSubtree(state, proc, (p) => {
    join(state, p, run.id);
    p.runId = run.id;
  });
}

// ---------------------------------------------------------------------------------------------
// Tasks and steps

function attributeTask(state: AttributionState, ctx: ExecContext): void {
  // Every run the process is in gets its say: a nested engine's head is also a step of the
  // script that started it.
  for (const run of runsOf(state, ctx.proc)) attributeTaskIn(state, run, ctx);
}

function attributeTaskIn(state: AttributionState, run: RunState, ctx: ExecContext): void {
  const { proc } = ctx;
  if (proc.taskByRun.has(run.id)) return;
  if (run.headUpid === proc.upid && run.engine !== 'script') return;
  ctx.runs = runsOf(state, proc);
  const d = detectorOf(run);
  const m = d.matchTask(run, ctx);
  if (!m) return;
  const existing = m.join ? run.tasks.get(m.join) : undefined;
  if (existing) {
    // Another process of a task already known (a second process in the same container).
    forSubtree(state, proc, (p) => {
      p.taskByRun.set(run.id, existing.id);
      join(state, p, existing.id);
      join(state, p, stepId(run, existing.stepName));
    });
    return;
  }
  const task = newTask(
    state,
    run,
    proc.upid === run.headUpid || run.tasks.has(`task:${proc.upid}`)
      ? `task:${run.id}:${proc.upid}`
      : `task:${proc.upid}`,
    m,
    'running',
    proc.startTs,
  );
  task.rootUpid = proc.upid;
  task.rootPid = proc.pid;
  forSubtree(state, proc, (p) => {
    p.taskByRun.set(run.id, task.id);
    join(state, p, task.id);
    join(state, p, stepId(run, task.stepName));
  });
  for (const w of m.wants ?? []) wantFor(state, run, w.path, w.maxBytes, run.engine);
  d.onTaskStart?.(run, task, opsFor(state, run, proc.startTs));
}

const stepId = (run: RunState, name: string) => `${run.id}/${name}`;

function ensureStep(state: AttributionState, run: RunState, name: string, provisional: boolean, ts: number): StepState {
  let step = run.steps.get(name);
  if (!step) {
    step = {
      kind: 'step',
      id: stepId(run, name),
      runId: run.id,
      name,
      provisional,
      startTs: ts,
      endTs: null,
      procs: new Set(),
      peak: newPeakTracker(),
    };
    run.steps.set(name, step);
    state.entities.set(step.id, step);
    state.deleted.delete(step.id);
  } else if (!provisional) {
    step.provisional = false;
  }
  state.dirty.add(step.id);
  return step;
}

function newTask(
  state: AttributionState,
  run: RunState,
  id: string,
  m: TaskMatch,
  status: ExecutionStatus,
  ts: number,
): TaskState {
  ensureStep(state, run, m.step, m.provisional ?? false, ts);
  const task: TaskState = {
    kind: 'task',
    id,
    runId: run.id,
    stepName: m.step,
    name: m.name,
    engineTaskId: m.engineTaskId ?? null,
    status,
    exitCode: null,
    signal: null,
    oomKilled: false,
    statusFromEngine: false,
    rootUpid: null,
    rootPid: null,
    workDir: m.workDir ?? null,
    queueNs: m.queueNs ?? null,
    attributes: { ...(m.attributes ?? {}) },
    tools: [],
    startTs: ts,
    endTs: null,
    procs: new Set(),
    peak: newPeakTracker(),
  };
  run.tasks.set(id, task);
  state.entities.set(id, task);
  state.dirty.add(id);
  state.dirty.add(run.id);
  return task;
}

function renameTask(state: AttributionState, run: RunState, task: TaskState, r: TaskRename, ts: number): void {
  if (r.name !== undefined) task.name = r.name;
  if (r.engineTaskId !== undefined) task.engineTaskId = r.engineTaskId;
  if (r.queueNs !== undefined) task.queueNs = r.queueNs;
  if (r.attributes) Object.assign(task.attributes, r.attributes);
  if (r.step !== undefined && r.step !== task.stepName) {
    const old = run.steps.get(task.stepName);
    const next = ensureStep(state, run, r.step, r.provisional ?? false, task.startTs);
    for (const upid of task.procs) {
      const p = state.procs.get(upid);
      if (!p) continue;
      if (old) leave(state, p, old.id);
      join(state, p, next.id);
    }
    task.stepName = r.step;
    if (old && ![...run.tasks.values()].some((t) => t.stepName === old.name)) {
      run.steps.delete(old.name);
      state.entities.delete(old.id);
      state.dirty.delete(old.id);
      state.deleted.set(old.id, old);
    }
  } else if (r.step !== undefined && r.provisional === false) {
    const step = run.steps.get(r.step);
    if (step) step.provisional = false;
  }
  void ts;
  state.dirty.add(task.id);
  state.dirty.add(stepId(run, task.stepName));
}

// ---------------------------------------------------------------------------------------------
// Tool executions

function attributeTool(state: AttributionState, proc: ProcState, match: ToolMatch | null, ts: number): void {
  const run = proc.runId ? state.runs.get(proc.runId) : undefined;
  const taskId = run ? proc.taskByRun.get(run.id) : undefined;
  if (!run || !taskId) return;
  const tool = match?.kind === 'tool' ? match : innerRemote(match);
  if (!tool) return;
  // The engine's own processes inside a task (a `python -m snakemake` job runner, a toil
  // worker) are how the task runs, not a tool it ran.
  if (ENGINE_TOOLS[run.engine]?.includes(tool.tool)) return;
  const inherited = proc.toolId ? (state.entities.get(proc.toolId) as ToolState | undefined) : undefined;
  if (inherited && inherited.tool === tool.tool && inherited.taskId === taskId) {
    // gatk's python launcher starting java, fastqc's perl starting java: one execution.
    if (!inherited.upids.includes(proc.upid)) {
      inherited.upids.push(proc.upid);
      inherited.pids.push(proc.pid);
    }
    if (inherited.subcommand === null && tool.subcommand !== null) {
      inherited.subcommand = tool.subcommand;
      inherited.name = `${tool.tool} ${tool.subcommand}`;
    }
    state.dirty.add(inherited.id);
    return;
  }
  if (inherited) forSubtree(state, proc, (p) => leave(state, p, inherited.id));
  const task = state.entities.get(taskId) as TaskState;
  const id = proc.execCount > 1 ? `tool:${proc.upid}:${proc.execCount}` : `tool:${proc.upid}`;
  const t: ToolState = {
    kind: 'tool',
    id,
    runId: run.id,
    taskId,
    tool: tool.tool,
    subcommand: tool.subcommand,
    name: tool.subcommand ? `${tool.tool} ${tool.subcommand}` : tool.tool,
    known: tool.known,
    status: 'running',
    exitCode: null,
    signal: null,
    rootUpid: proc.upid,
    upids: [proc.upid],
    pids: [proc.pid],
    argv: proc.image?.argv.slice(0, 32) ?? [],
    startTs: ts,
    endTs: null,
    procs: new Set(),
    peak: newPeakTracker(),
  };
  state.entities.set(id, t);
  task.tools.push(id);
  forSubtree(state, proc, (p) => {
    p.toolId = id;
    join(state, p, id);
  });
  state.dirty.add(task.id);
}

const ENGINE_TOOLS: Partial<Record<RunState['engine'], string[]>> = {
  snakemake: ['snakemake'],
  nextflow: ['nextflow'],
  cwltool: ['cwltool'],
  toil: ['toil-cwl-runner'],
};

/** `docker run ... bwa mem`: the tool runs under the daemon, so the client stands for it. */
function innerRemote(m: ToolMatch | null): Extract<ToolMatch, { kind: 'tool' }> | null {
  if (m?.kind !== 'wrapper') return null;
  const inner = innerTool(m);
  return inner?.via && inner.via !== 'python' && inner.via !== 'java' ? inner : null;
}

// ---------------------------------------------------------------------------------------------
// Samples, exits, OOM

function onSample(state: AttributionState, e: EventOf<'process.sample'>): void {
  const proc = procByRef(state, e.upid, e.pid);
  if (!proc || proc.exit) return;
  const c = proc.counters;
  c.cpuNs = e.cpuNs;
  c.rssBytes = e.rssBytes;
  if (e.rssBytes > c.peakRssBytes) c.peakRssBytes = e.rssBytes;
  if (e.rssBytes > proc.sampledPeakSinceExec) proc.sampledPeakSinceExec = e.rssBytes;
  c.readBytes = e.readBytes;
  c.writeBytes = e.writeBytes;
  if (e.ioWaitNs !== undefined) c.ioWaitNs = e.ioWaitNs;
  if (e.netSendBytes !== undefined) c.netSendBytes = e.netSendBytes;
  if (e.netRecvBytes !== undefined) c.netRecvBytes = e.netRecvBytes;
  proc.everSampled = true;
  if (e.sampled) proc.approximate = true;
  for (const id of proc.memberships) {
    const entity = state.entities.get(id);
    if (entity) peakSet(entity.peak, proc.upid, e.rssBytes);
    state.dirty.add(id);
  }
}

/** An exit peak up to 5% over the parent's RSS at fork is taken for the inherited one. */
const INHERITED_PEAK_SLACK = 1.05;

export function statusFromExit(code: number | null, signal: number | null, oomKilled: boolean): ExecutionStatus {
  if (oomKilled) return 'killed';
  // A writer whose reader stopped early (`zcat | head`) has done all that was wanted of it.
  // If the reader failed instead, that failure is the reader's own.
  if (signal === SIGPIPE) return 'succeeded';
  if (signal !== null) return 'killed';
  return code === null || code === 0 ? 'succeeded' : 'failed';
}

function onExit(state: AttributionState, e: EventOf<'process.exit'>): void {
  const proc = procByRef(state, e.upid, e.pid);
  if (!proc || proc.exit) return;
  const code = e.exitCodeUnknown ? null : e.exitCode;
  proc.exit = { code, signal: e.signal };
  proc.endTs = e.ts;
  if (e.sampled) proc.approximate = true;
  const c = proc.counters;
  c.cpuNs = Math.max(c.cpuNs, e.cpuUserNs + e.cpuSysNs);
  // The parent's RSS at fork, or (not sampled by then) what it holds now, as the estimate.
  const parent = proc.parentUpid ? state.procs.get(proc.parentUpid) : undefined;
  const inherited = Math.max(
    proc.inheritedRssBytes,
    parent?.everSampled ? parent.counters.rssBytes || parent.sampledPeakSinceExec : 0,
  );
  if (proc.execCount > 0 && e.execPeakRssBytes !== undefined) {
    // The kernel's peak of the image exec'd last (bpf/README.md): ru_maxrss also holds the
    // images before it, the forking parent's included (Snakemake's bash exec'ing samtools).
    c.peakRssBytes = Math.max(e.execPeakRssBytes, proc.sampledPeakSinceExec);
  } else if (proc.execCount > 0 && inherited > 0 && e.peakRssBytes <= inherited * INHERITED_PEAK_SLACK) {
    // ru_maxrss still shows the parent's image this process replaced: keep what was sampled.
    proc.peakInherited = true;
    c.peakRssBytes = proc.sampledPeakSinceExec;
  } else {
    c.peakRssBytes = Math.max(c.peakRssBytes, e.peakRssBytes);
  }
  c.rssBytes = 0;
  c.readBytes = Math.max(c.readBytes, e.readBytes);
  c.writeBytes = Math.max(c.writeBytes, e.writeBytes);
  c.storageReadBytes = Math.max(c.storageReadBytes, e.storageReadBytes ?? 0);
  c.storageWriteBytes = Math.max(c.storageWriteBytes, e.storageWriteBytes ?? 0);
  c.ioWaitNs = Math.max(c.ioWaitNs, e.ioWaitNs ?? 0);
  c.netSendBytes = Math.max(c.netSendBytes, e.netSendBytes ?? 0);
  c.netRecvBytes = Math.max(c.netRecvBytes, e.netRecvBytes ?? 0);
  if (state.livePids.get(proc.pid) === proc.upid) state.livePids.delete(proc.pid);
  for (const id of proc.memberships) {
    const entity = state.entities.get(id);
    if (!entity) continue;
    peakExit(entity.peak, proc.upid, c.peakRssBytes, proc.everSampled);
    state.dirty.add(id);
  }

  for (const id of proc.memberships) {
    const entity = state.entities.get(id);
    if (entity?.kind === 'tool' && entity.rootUpid === proc.upid) {
      entity.endTs = e.ts;
      entity.exitCode = code;
      entity.signal = e.signal;
      entity.status = statusFromExit(code, e.signal, proc.oomKilled);
    }
  }
  for (const run of state.runs.values()) {
    const taskId = proc.taskByRun.get(run.id);
    const task = taskId ? run.tasks.get(taskId) : undefined;
    if (task && task.rootUpid === proc.upid) endTask(state, run, task, proc, e.ts);
  }
  for (const run of state.runs.values()) {
    if (run.endTs !== null) continue;
    if (run.headUpid === proc.upid || (run.headUpid === null && run.rootUpid === proc.upid)) {
      run.endTs = e.ts;
      run.exitCode = code;
      run.signal = e.signal;
      run.status = statusFromExit(code, e.signal, proc.oomKilled);
      state.dirty.add(run.id);
      detectorOf(run).onRunEnd?.(run, opsFor(state, run, e.ts));
    } else if (
      run.engine !== 'script' &&
      run.rootUpid === proc.upid &&
      run.headUpid !== proc.upid &&
      run.endTs === null
    ) {
      // The wrapper around an adopted engine ended after it: its status is the run's.
      run.exitCode = code;
      state.dirty.add(run.id);
    }
  }
}

function endTask(state: AttributionState, run: RunState, task: TaskState, root: ProcState, ts: number): void {
  task.endTs = ts;
  if (!task.statusFromEngine) {
    task.exitCode = root.exit?.code ?? null;
    task.signal = root.exit?.signal ?? null;
    let status = statusFromExit(task.exitCode, task.signal, task.oomKilled);
    // A shell reports a child killed by signal N as 128+N: the task was killed, not failed.
    // Not 141: under pipefail that is the shell's own verdict on a SIGPIPE'd writer.
    const sig = task.exitCode !== null && task.exitCode > 128 && task.exitCode <= 192 ? task.exitCode - 128 : null;
    if (status === 'failed' && sig !== null && sig !== SIGPIPE) {
      for (const upid of task.procs) {
        if (state.procs.get(upid)?.exit?.signal === sig) status = 'killed';
      }
    }
    task.status = status;
  }
  state.dirty.add(task.id);
  detectorOf(run).onTaskEnd?.(run, task, opsFor(state, run, ts));
}

function onOom(state: AttributionState, e: EventOf<'oom.kill'>): void {
  const proc = procByRef(state, e.victimUpid, e.victimPid);
  if (!proc) return;
  proc.oomKilled = true;
  for (const id of proc.memberships) {
    const entity = state.entities.get(id);
    if (entity?.kind === 'task') {
      entity.oomKilled = true;
      if (entity.endTs !== null && !entity.statusFromEngine) entity.status = 'killed';
      state.dirty.add(id);
    }
    if (entity?.kind === 'tool') state.dirty.add(id);
  }
}

// ---------------------------------------------------------------------------------------------
// Engine output and file facts

function onLog(state: AttributionState, e: EventOf<'log.chunk'>): void {
  const proc = procByRef(state, e.upid, e.pid);
  if (!proc) return;
  for (const run of state.runs.values()) {
    if (run.headUpid === null || proc.commandUpid !== run.headUpid) continue;
    detectorOf(run).onLog?.(run, e.text, opsFor(state, run, e.ts));
  }
}

function onFact(state: AttributionState, fact: FileFact): void {
  const runIds = state.wanted.get(fact.path);
  if (!runIds) return;
  for (const id of runIds) {
    const run = state.runs.get(id);
    if (run) detectorOf(run).onFact?.(run, fact, opsFor(state, run, fact.ts ?? state.lastTs));
  }
}

function wantFor(
  state: AttributionState,
  run: RunState,
  path: string,
  maxBytes: number,
  reason: string,
  glob?: { nearTs: number },
): void {
  let runs = state.wanted.get(path);
  if (!runs) {
    runs = new Set();
    state.wanted.set(path, runs);
  }
  if (runs.has(run.id)) return;
  runs.add(run.id);
  state.pendingWants.push(
    glob ? { path, maxBytes, reason, glob: true, nearTs: glob.nearTs } : { path, maxBytes, reason },
  );
}

function opsFor(state: AttributionState, run: RunState, ts: number): AttributionOps {
  return {
    ts,
    renameTask: (task, r) => renameTask(state, run, task, r, ts),
    setTaskStatus: (task, status, exitCode) => {
      task.status = status;
      if (exitCode !== null) task.exitCode = exitCode;
      task.statusFromEngine = true;
      if (task.endTs === null && status !== 'running' && task.rootUpid === null) task.endTs = ts;
      state.dirty.add(task.id);
    },
    createTask: (r, key, m, status, startTs) => {
      const task = newTask(state, r, `task:${r.id}:${key}`, m, status, startTs);
      if (status !== 'running') {
        task.endTs = ts;
        task.statusFromEngine = true;
      }
      return task;
    },
    updateRun: (r, u) => {
      if (!r.labelled || !state.trace?.pipeline) if (u.pipeline !== undefined) r.pipeline = u.pipeline;
      if (!r.labelled || !state.trace?.run) if (u.name !== undefined) r.name = u.name;
      if (u.attributes) Object.assign(r.attributes, u.attributes);
      state.dirty.add(r.id);
    },
    want: (r, path, maxBytes, glob) => wantFor(state, r, path, maxBytes, r.engine, glob),
    getProc: (upid) => state.procs.get(upid),
  };
}

// ---------------------------------------------------------------------------------------------
// Records

function resourcesOf(state: AttributionState, entity: EntityState): Resources {
  const r: Resources = {
    wallNs: Math.max(0, (entity.endTs ?? state.lastTs) - entity.startTs),
    cpuNs: 0,
    peakRssBytes: 0,
    maxProcessPeakRssBytes: 0,
    readBytes: 0,
    writeBytes: 0,
    storageReadBytes: 0,
    storageWriteBytes: 0,
    ioWaitNs: 0,
    netSendBytes: 0,
    netRecvBytes: 0,
    processCount: entity.procs.size,
  };
  let approximate = 0;
  let inherited = 0;
  for (const upid of entity.procs) {
    const p = state.procs.get(upid);
    if (!p) continue;
    if (p.peakInherited) inherited++;
    const c = p.counters;
    r.cpuNs += c.cpuNs;
    r.readBytes += c.readBytes;
    r.writeBytes += c.writeBytes;
    r.storageReadBytes += c.storageReadBytes;
    r.storageWriteBytes += c.storageWriteBytes;
    r.ioWaitNs += c.ioWaitNs;
    r.netSendBytes += c.netSendBytes;
    r.netRecvBytes += c.netRecvBytes;
    if (c.peakRssBytes > r.maxProcessPeakRssBytes) r.maxProcessPeakRssBytes = c.peakRssBytes;
    if (p.approximate) approximate++;
  }
  r.peakRssBytes = Math.max(entity.peak.peak, r.maxProcessPeakRssBytes);
  if (approximate > 0) r.sampledProcessCount = approximate;
  if (inherited > 0) r.peakRssUnknownProcessCount = inherited;
  return r;
}

function stepStatus(tasks: TaskState[]): ExecutionStatus {
  if (tasks.some((t) => t.status === 'running')) return 'running';
  if (tasks.some((t) => t.status === 'failed')) return 'failed';
  if (tasks.some((t) => t.status === 'killed')) return 'killed';
  return 'succeeded';
}

export function runRecord(state: AttributionState, run: RunState): RunRecord {
  let status = run.status;
  let endTs = run.endTs;
  if (run.headUpid === null && run.engine !== 'script') {
    // Argo and Batch runs have no head process: they live as long as their tasks.
    const tasks = [...run.tasks.values()];
    status = tasks.length === 0 ? 'running' : stepStatus(tasks);
    endTs = status === 'running' ? null : Math.max(...tasks.map((t) => t.endTs ?? 0));
  }
  const root = run.headUpid ? state.procs.get(run.headUpid) : undefined;
  return {
    tenant: state.tenant,
    host: state.host,
    id: run.id,
    pipeline: run.pipeline,
    name: run.name,
    engine: run.engine,
    status,
    startTs: run.startTs,
    endTs,
    exitCode: run.exitCode,
    signal: run.signal,
    rootUpid: run.headUpid ?? run.rootUpid,
    rootPid: root?.pid ?? (run.rootUpid ? (state.procs.get(run.rootUpid)?.pid ?? null) : null),
    labelled: run.labelled,
    attributes: run.attributes,
    parentRunId: run.parentRunId,
    resources: resourcesOf(state, run),
  };
}

export function stepRecord(state: AttributionState, run: RunState, step: StepState): StepRecord {
  const tasks = [...run.tasks.values()].filter((t) => t.stepName === step.name);
  const ended = tasks.every((t) => t.endTs !== null);
  const start = Math.min(...tasks.map((t) => t.startTs), step.startTs);
  return {
    tenant: state.tenant,
    host: state.host,
    id: step.id,
    runId: run.id,
    name: step.name,
    status: stepStatus(tasks),
    taskCount: tasks.length,
    failedTaskCount: tasks.filter((t) => t.status === 'failed' || t.status === 'killed').length,
    startTs: start,
    endTs: ended && tasks.length > 0 ? Math.max(...tasks.map((t) => t.endTs!)) : null,
    resources: {
      ...resourcesOf(state, step),
      wallNs: Math.max(0, (ended && tasks.length > 0 ? Math.max(...tasks.map((t) => t.endTs!)) : state.lastTs) - start),
    },
  };
}

export function taskRecord(state: AttributionState, run: RunState, task: TaskState): TaskRecord {
  return {
    tenant: state.tenant,
    host: state.host,
    id: task.id,
    runId: run.id,
    stepId: stepId(run, task.stepName),
    step: task.stepName,
    name: task.name,
    engineTaskId: task.engineTaskId,
    status: task.status,
    exitCode: task.exitCode,
    signal: task.signal,
    oomKilled: task.oomKilled,
    startTs: task.startTs,
    endTs: task.endTs,
    queueNs: task.queueNs,
    rootUpid: task.rootUpid,
    rootPid: task.rootPid,
    workDir: task.workDir,
    attributes: task.attributes,
    resources: resourcesOf(state, task),
  };
}

export function toolRecord(state: AttributionState, tool: ToolState): ToolExecutionRecord {
  return {
    tenant: state.tenant,
    host: state.host,
    id: tool.id,
    runId: tool.runId,
    taskId: tool.taskId,
    tool: tool.tool,
    subcommand: tool.subcommand,
    name: tool.name,
    known: tool.known,
    status: tool.status,
    exitCode: tool.exitCode,
    signal: tool.signal,
    startTs: tool.startTs,
    endTs: tool.endTs,
    pids: tool.pids,
    upids: tool.upids,
    argv: tool.argv,
    resources: resourcesOf(state, tool),
  };
}

function collectChanges(state: AttributionState): AttributionChange[] {
  const ts = state.lastTs;
  // A changed task changes its step's and run's figures too.
  for (const id of [...state.dirty]) {
    const e = state.entities.get(id);
    if (e?.kind === 'task') {
      state.dirty.add(stepId(state.runs.get(e.runId)!, e.stepName));
      state.dirty.add(e.runId);
    } else if (e?.kind === 'step' || e?.kind === 'tool') {
      state.dirty.add(e.runId);
    }
  }
  const changes: AttributionChange[] = [];
  const order = { run: 0, step: 1, task: 2, tool: 3 } as const;
  const dirty = [...state.dirty]
    .map((id) => state.entities.get(id))
    .filter((e): e is EntityState => e !== undefined)
    .sort((a, b) => order[a.kind] - order[b.kind]);
  for (const e of dirty) {
    switch (e.kind) {
      case 'run':
        changes.push({ entity: 'run', op: 'upsert', ts, record: runRecord(state, e) });
        break;
      case 'step': {
        const run = state.runs.get(e.runId)!;
        changes.push({ entity: 'step', op: 'upsert', ts, record: stepRecord(state, run, e) });
        break;
      }
      case 'task':
        changes.push({ entity: 'task', op: 'upsert', ts, record: taskRecord(state, state.runs.get(e.runId)!, e) });
        break;
      case 'tool':
        changes.push({ entity: 'tool', op: 'upsert', ts, record: toolRecord(state, e) });
        break;
    }
  }
  for (const e of state.deleted.values()) {
    if (e.kind !== 'step') continue;
    const run = state.runs.get(e.runId)!;
    changes.push({ entity: 'step', op: 'delete', ts, record: stepRecord(state, run, e) });
  }
  state.deleted.clear();
  state.dirty.clear();
  return changes;
}
