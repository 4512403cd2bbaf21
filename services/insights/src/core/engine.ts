// The incremental engine: `(state, events, now) => { state, insights }`. It keeps a process
// table and per-process evidence, runs the detectors on each batch and on the clock, and
// returns the insights that are new or changed in this step. An insight keeps its id for
// its whole life (one problem, one id), so consumers upsert by id.
//
// The state is owned by the engine: pass back the state it returned and nothing else.
import type { HostSample, Insight, OomKill, TelemetryEvent } from '@tracer/events';
import { resolveSettings } from './config.ts';
import { detectCpuOversubscription } from './detectors/cpu-oversubscription.ts';
import { onDiskFullSeen } from './detectors/disk-full.ts';
import { detectIdleHost } from './detectors/idle-host.ts';
import { detectIoWait } from './detectors/io-wait.ts';
import { detectCgroupMemoryPressure, detectMemoryPressure } from './detectors/memory-pressure.ts';
import { detectNetworkWait } from './detectors/network-wait.ts';
import { detectNoProgress } from './detectors/no-progress.ts';
import { onOomKill } from './detectors/oom-kill.ts';
import { onAttemptEnd, onAttemptStart } from './detectors/retry.ts';
import { detectSlowStep } from './detectors/slow-step.ts';
import { findCulprit, onFailureExit, refreshFailures, reportFailure } from './failures.ts';
import {
  ensureProcess,
  failed,
  findProcess,
  flushLogs,
  hasLiveChildren,
  isAlive,
  onExit,
  onFileOpen,
  onForkOrExec,
  onLog,
  onSample,
  onSyscallError,
  processKey,
} from './processes.ts';
import type { DetectorContext, EngineState, InsightDraft, InsightsOptions, ProcessRecord } from './types.ts';

/** Exited processes are forgotten this long after their exit, unless an open insight needs them. */
const RETAIN_EXITED_NS = 30 * 60 * 1e9;
const MAX_ERROR_ENTRIES = 200;

export function createInsightsState(): EngineState {
  return {
    processes: new Map(),
    byPid: new Map(),
    insights: new Map(),
    failureOf: new Map(),
    host: {},
    trace: {},
    attempts: new Map(),
    lastTs: 0,
    touched: new Set(),
  };
}

/** Anything with a `type` and `ts`: telemetry events, and `insight` events a trace may hold. */
export type EngineInput = TelemetryEvent | { type: string; ts: number };

function buildInsight(id: string, proc: ProcessRecord | undefined, d: InsightDraft): Insight {
  const entries = (d.errorEntries ?? []).slice(0, MAX_ERROR_ENTRIES);
  const own = entries.filter((e) => e.pid === undefined || (proc && e.pid === proc.pid));
  const errorLines = [...new Set(own.map((e) => e.line))].sort((a, b) => a - b);
  const insight: Insight = {
    id,
    kind: d.kind,
    severity: d.severity,
    state: d.state ?? 'open',
    ...(proc ? { pid: proc.pid } : {}),
    ...(proc?.upid ? { upid: proc.upid } : {}),
    ...(proc?.task?.runId ? { runId: proc.task.runId } : {}),
    ...(proc?.task?.stepId ? { stepId: proc.task.stepId } : {}),
    ...(proc?.task?.taskId ? { taskId: proc.task.taskId } : {}),
    ...(proc ? { tool: proc.task?.tool ?? proc.tool } : {}),
    startTs: Math.round(d.startTs),
    ...(d.endTs !== undefined ? { endTs: Math.round(d.endTs) } : {}),
    ...(d.category ? { category: d.category } : {}),
    ...(d.confidence !== undefined ? { confidence: d.confidence } : {}),
    errorLines: errorLines.slice(0, 200),
    ...(entries.length ? { errorEntries: entries.map((e) => ({ ...e, text: e.text.slice(0, 2048) })) } : {}),
    summary: d.summary.length > 1024 ? `${d.summary.slice(0, 1021)}...` : d.summary,
    evidence: d.evidence,
    ...(d.nextSteps ? { nextSteps: d.nextSteps } : {}),
  };
  return insight;
}

function context(state: EngineState, now: number, options: InsightsOptions, changed: Set<string>): DetectorContext {
  return {
    state,
    now,
    options,
    upsert(id, proc, draft) {
      const prev = state.insights.get(id);
      const next = buildInsight(id, proc, draft);
      // Tool and task of the first report stay: a later refresh may come through another path.
      if (prev && JSON.stringify(prev) === JSON.stringify(next)) return prev;
      state.insights.set(id, next);
      changed.add(id);
      return next;
    },
    get: (id) => state.insights.get(id),
    patch(id, fields) {
      const prev = state.insights.get(id);
      if (!prev) return undefined;
      const next = { ...prev, ...fields };
      if (JSON.stringify(prev) === JSON.stringify(next)) return prev;
      state.insights.set(id, next);
      changed.add(id);
      return next;
    },
  };
}

function handle(ctx: DetectorContext, ev: EngineInput): void {
  const { state } = ctx;
  switch (ev.type) {
    case 'trace.start': {
      const t = ev as Extract<TelemetryEvent, { type: 'trace.start' }>;
      state.trace = {
        ...(t.pipeline ? { pipeline: t.pipeline } : {}),
        ...(t.run ? { run: t.run } : {}),
        ...(t.rootPid ? { rootPid: t.rootPid } : {}),
      };
      return;
    }
    case 'host.info': {
      const h = ev as Extract<TelemetryEvent, { type: 'host.info' }>;
      state.host.cpus = h.cpus;
      state.host.memoryBytes = h.memoryBytes;
      return;
    }
    case 'process.fork':
    case 'process.exec': {
      const e = ev as Extract<TelemetryEvent, { type: 'process.fork' | 'process.exec' }>;
      const p = onForkOrExec(ctx, e);
      if (e.type === 'process.exec') onAttemptStart(ctx, p);
      return;
    }
    case 'process.sample': {
      const s = ev as Extract<TelemetryEvent, { type: 'process.sample' }>;
      const p = ensureProcess(ctx, s.pid, s.upid, s.ts);
      if (!isAlive(p)) return;
      onSample(p, s, hasLiveChildren(state, p));
      detectCgroupMemoryPressure(ctx, p, s);
      detectIoWait(ctx, p);
      detectNetworkWait(ctx, p);
      return;
    }
    case 'log.chunk': {
      const c = ev as Extract<TelemetryEvent, { type: 'log.chunk' }>;
      const p = ensureProcess(ctx, c.pid, c.upid, c.ts);
      const before = countDiskFull(p);
      onLog(p, c);
      state.touched.add(p.key);
      if (countDiskFull(p) > before) onDiskFullSeen(ctx, p, c.ts);
      return;
    }
    case 'syscall.error': {
      const e = ev as Extract<TelemetryEvent, { type: 'syscall.error' }>;
      const p = ensureProcess(ctx, e.pid, e.upid, e.ts);
      onSyscallError(p, e);
      state.touched.add(p.key);
      if (e.errno === 'ENOSPC' || e.errno === 'EDQUOT') onDiskFullSeen(ctx, p, e.firstTs ?? e.ts);
      if (['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'].includes(e.errno))
        p.lastNetTs ??= e.ts;
      return;
    }
    case 'file.open': {
      const f = ev as Extract<TelemetryEvent, { type: 'file.open' }>;
      if (!f.error) return;
      const p = ensureProcess(ctx, f.pid, f.upid, f.ts);
      onFileOpen(p, f);
      state.touched.add(p.key);
      if (f.error === 'ENOSPC' || f.error === 'EDQUOT') onDiskFullSeen(ctx, p, f.ts);
      return;
    }
    case 'oom.kill':
      onOomKill(ctx, ev as OomKill);
      return;
    case 'process.exit': {
      const x = ev as Extract<TelemetryEvent, { type: 'process.exit' }>;
      const p = findProcess(state, x.pid, x.upid) ?? ensureProcess(ctx, x.pid, x.upid, x.ts - (x.durationNs ?? 0));
      if (p.exit) return;
      flushLogs(p, x.ts);
      onExit(p, x);
      state.touched.add(p.key);
      detectIoWait(ctx, p);
      detectNetworkWait(ctx, p);
      detectNoProgress(ctx, p);
      detectSlowStep(ctx, p);
      onAttemptEnd(ctx, p);
      onFailureExit(ctx, p);
      // Children that exited earlier waited for this exit to know whether their failure was handled.
      return;
    }
    case 'host.sample': {
      const h = ev as HostSample;
      const alive = [...state.processes.values()].filter(isAlive);
      for (const p of alive) {
        p.hostSeen ??= {};
        const seen = p.hostSeen;
        const mem = h.pressure?.memory?.some10;
        const cpu = h.pressure?.cpu?.some10;
        const io = h.pressure?.io?.some10;
        if (mem !== undefined) seen.maxMemorySome10 = Math.max(seen.maxMemorySome10 ?? 0, mem);
        if (cpu !== undefined) seen.maxCpuSome10 = Math.max(seen.maxCpuSome10 ?? 0, cpu);
        if (io !== undefined) seen.maxIoSome10 = Math.max(seen.maxIoSome10 ?? 0, io);
        seen.minMemoryAvailableBytes = Math.min(
          seen.minMemoryAvailableBytes ?? Number.MAX_SAFE_INTEGER,
          h.memoryAvailableBytes,
        );
      }
      const settings = resolveSettings(ctx.options.config, state.trace.pipeline);
      detectMemoryPressure(ctx, h, alive, settings);
      detectCpuOversubscription(ctx, h, alive, settings);
      detectIdleHost(ctx, h, alive, settings);
      return;
    }
    default:
      return;
  }
}

function countDiskFull(p: ProcessRecord): number {
  let n = 0;
  for (const s of [p.streams.stderr, p.streams.stdout])
    for (const f of s?.findings ?? []) if (f.category === 'disk_full') n += f.count;
  return n;
}

/** Processes attribution placed since the last step: retries by task key, task-root failures. */
function reviewAttached(ctx: DetectorContext): void {
  for (const key of ctx.state.touched) {
    const p = ctx.state.processes.get(key);
    if (!p?.task) continue;
    if (p.task.isTaskRoot && p.task.taskKey && p.retryKey !== p.task.taskKey) {
      onAttemptStart(ctx, p);
      if (p.exit) onAttemptEnd(ctx, p);
    }
    if (p.task.isTaskRoot && p.exit && failed(p) && !ctx.state.failureOf.has(findCulpritKey(ctx, p)))
      reportFailure(ctx, p);
    // Its step became known after it ended (the service: tasks.v1 behind the telemetry).
    if (p.exit) detectSlowStep(ctx, p);
  }
}

function findCulpritKey(ctx: DetectorContext, p: ProcessRecord): string {
  return findCulprit(ctx.state, p).key;
}

/** Checks that need the clock rather than an event: stalls and steps running long. */
function tick(ctx: DetectorContext): void {
  for (const p of ctx.state.processes.values()) {
    if (!isAlive(p)) continue;
    detectNoProgress(ctx, p);
    detectSlowStep(ctx, p);
  }
}

function prune(state: EngineState, now: number, forgetAfterNs: number | undefined): void {
  const openFor = new Set<number>();
  for (const i of state.insights.values()) if (i.state === 'open' && i.pid !== undefined) openFor.add(i.pid);
  const forget = forgetAfterNs !== undefined;
  for (const [key, p] of state.processes) {
    if (!p.exit || p.endTs === undefined || now - p.endTs < RETAIN_EXITED_NS) continue;
    const parent = p.parentKey ? state.processes.get(p.parentKey) : undefined;
    if (parent && !parent.exit) continue;
    const needed = openFor.has(p.pid) || state.failureOf.has(key);
    if (needed && !(forget && now - p.endTs >= forgetAfterNs)) continue;
    forgetProcess(state, p);
  }
  if (forget) forgetFinished(state, now, forgetAfterNs);
}

function forgetProcess(state: EngineState, p: ProcessRecord): void {
  state.processes.delete(p.key);
  state.failureOf.delete(p.key);
  if (state.byPid.get(p.pid) === p.key) state.byPid.delete(p.pid);
  // A forgotten process is no attempt any more: the attempts map shrinks with the process table.
  if (!p.retryKey) return;
  const left = (state.attempts.get(p.retryKey) ?? []).filter((k) => k !== p.key);
  if (left.length) state.attempts.set(p.retryKey, left);
  else state.attempts.delete(p.retryKey);
}

/**
 * For a state that lives for weeks: live processes the host said nothing about for that long
 * (no sample, no output: the agent samples every live process, so their exit was lost), then
 * finished insights (resolved, or with an end) and insights of processes no longer known, and
 * cgroup episodes nobody sampled for that long. Nothing can touch them again: no detector
 * sees a process that is gone, so a forgotten id is never raised anew.
 */
function forgetFinished(state: EngineState, now: number, forgetAfterNs: number): void {
  for (const p of state.processes.values()) {
    const lastSeen = Math.max(p.startTs, p.lastSampleTs ?? 0, p.lastOutputTs ?? 0);
    if (!p.exit && now - lastSeen >= forgetAfterNs) forgetProcess(state, p);
  }
  for (const [id, i] of state.insights) {
    const gone = i.pid !== undefined && !state.processes.has(processKey(i.pid, i.upid));
    const endedAt = i.endTs ?? (i.state === 'resolved' || gone ? i.startTs : undefined);
    if (endedAt === undefined || now - endedAt < forgetAfterNs) continue;
    if (!gone && i.pid !== undefined) continue;
    state.insights.delete(id);
  }
  for (const [cgroup, ep] of state.cgroupMemory ?? [])
    if (now - ep.lastTs >= forgetAfterNs) state.cgroupMemory!.delete(cgroup);
}

/**
 * One step of the engine: folds in a batch (in the agent's order) and the clock `now` (ns
 * since the epoch), returns the insights created or changed by this step.
 */
export function stepInsights(
  state: EngineState,
  events: Iterable<EngineInput>,
  now: number,
  options: InsightsOptions = {},
): { state: EngineState; insights: Insight[] } {
  const changed = new Set<string>();
  const ctx = context(state, now, options, changed);
  // `touched` may hold processes whose task attachTaskRefs changed since the last step.
  reviewAttached(ctx);
  for (const ev of events) {
    if (ev.ts > state.lastTs) state.lastTs = ev.ts;
    handle(ctx, ev);
  }
  ctx.now = Math.max(now, state.lastTs);
  refreshFailures(ctx);
  tick(ctx);
  // Taken before pruning: a step spanning hours (a consumer catching up) may raise an insight
  // and forget it again; it must still be returned once.
  const insights = [...changed].map((id) => state.insights.get(id)!).filter(Boolean);
  prune(state, ctx.now, options.forgetAfterNs);
  state.touched.clear();
  return { state, insights };
}

/** Every insight the engine holds, in the order they were first raised. */
export function allInsights(state: EngineState): Insight[] {
  return [...state.insights.values()];
}
