// The process table: what the engine knows about each process, updated event by event.
import type {
  FileOpen,
  LogChunk,
  ProcessExec,
  ProcessExit,
  ProcessFork,
  ProcessSample,
  SyscallError,
} from '@tracer/events';
import { resolveSettings } from './config.ts';
import {
  classifyLogLine,
  createLogCursor,
  feedLogChunk,
  flushLogCursor,
  MAX_STORED_LINE_CHARS,
  repeatKey,
} from './log-analysis.ts';
import type { DetectorContext, EngineState, ProcessRecord, StreamState } from './types.ts';

const MAX_FINDINGS = 200;
const MAX_TAIL = 30;
const MAX_SYSCALL_RECORDS = 64;

export function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

const interpreterRe = /^(?:sh|bash|dash|zsh|ksh|python[\d.]*|pypy[\d.]*|Rscript|R|perl|ruby|node|java|julia|groovy)$/;
const subcommandTools = new Set([
  'samtools',
  'bcftools',
  'bwa',
  'bwa-mem2',
  'gatk',
  'bedtools',
  'picard',
  'seqkit',
  'salmon',
  'kallisto',
  'bowtie2-build',
  'hisat2-build',
  'docker',
  'podman',
  'singularity',
  'apptainer',
  'aws',
  'git',
  'conda',
  'mamba',
]);

/** The tool a process is: its program, the script an interpreter ran, or the jar and its command. */
export function toolKey(exe: string, argv: readonly string[]): string {
  const prog = basename(argv[0] ?? exe) || basename(exe);
  if (interpreterRe.test(prog)) {
    if (prog === 'java') {
      const jar = argv.indexOf('-jar');
      if (jar >= 0 && argv[jar + 1]) {
        const next = argv[jar + 2];
        return next && !next.startsWith('-') && /^[A-Za-z]\w+$/.test(next)
          ? `${basename(argv[jar + 1]!)} ${next}`
          : basename(argv[jar + 1]!);
      }
      const cls = argv
        .slice(1)
        .find((a, i, all) => !a.startsWith('-') && !['-cp', '-classpath', '--class-path'].includes(all[i - 1] ?? ''));
      return cls ? `java ${cls.split('.').pop()}` : 'java';
    }
    if (argv[1] === '-c') return prog;
    const m = argv.indexOf('-m');
    if (prog.startsWith('python') && m >= 0 && argv[m + 1]) return argv[m + 1]!;
    const script = argv.slice(1).find((a) => !a.startsWith('-'));
    return script ? basename(script) : prog;
  }
  const sub = argv[1];
  if (subcommandTools.has(prog) && sub && /^[A-Za-z][\w-]*$/.test(sub)) return `${prog} ${sub}`;
  return prog;
}

export function processKey(pid: number, upid: string | undefined): string {
  return upid ?? `pid:${pid}`;
}

export function findProcess(state: EngineState, pid: number, upid?: string): ProcessRecord | undefined {
  if (upid) {
    const p = state.processes.get(upid);
    if (p) return p;
  }
  const key = state.byPid.get(pid);
  return key ? state.processes.get(key) : undefined;
}

function newRecord(
  ctx: DetectorContext,
  ev: ProcessFork | ProcessExec,
  parent: ProcessRecord | undefined,
): ProcessRecord {
  const exec = ev.type === 'process.exec' ? ev : undefined;
  const exe = exec?.exe ?? parent?.exe ?? '';
  const argv = exec?.argv ?? parent?.argv ?? [];
  return {
    pid: ev.pid,
    upid: ev.upid,
    key: processKey(ev.pid, ev.upid),
    ppid: ev.ppid,
    ...(parent ? { parentKey: parent.key } : {}),
    exe,
    argv,
    cwd: exec?.cwd ?? parent?.cwd ?? '',
    ...(exec?.comm ? { comm: exec.comm } : {}),
    tool: toolKey(exe, argv),
    startTs: ev.ts,
    children: [],
    settings: resolveSettings(ctx.options.config, ctx.state.trace.pipeline),
    samples: 0,
    cpuNs: 0,
    rssBytes: 0,
    peakRssBytes: 0,
    readBytes: 0,
    writeBytes: 0,
    dStateNs: 0,
    netIdleNs: 0,
    lastProgressTs: ev.ts,
    streams: {},
    syscallErrors: [],
    failedOpens: [],
  };
}

/** A process seen first through a sample, log or error event (its exec was before the trace). */
export function ensureProcess(ctx: DetectorContext, pid: number, upid: string | undefined, ts: number): ProcessRecord {
  const found = findProcess(ctx.state, pid, upid);
  if (found) return found;
  const rec = newRecord(ctx, { type: 'process.fork', pid, upid: upid ?? '', ppid: 0, ts } as ProcessFork, undefined);
  if (!upid) delete rec.upid;
  rec.key = processKey(pid, upid);
  ctx.state.processes.set(rec.key, rec);
  ctx.state.byPid.set(pid, rec.key);
  return rec;
}

export function onForkOrExec(ctx: DetectorContext, ev: ProcessFork | ProcessExec): ProcessRecord {
  const { state } = ctx;
  const parent = findProcess(state, ev.ppid, ev.parentUpid);
  let rec = state.processes.get(processKey(ev.pid, ev.upid));
  if (!rec) {
    rec = newRecord(ctx, ev, parent);
    state.processes.set(rec.key, rec);
    if (parent && !parent.children.includes(rec.key)) parent.children.push(rec.key);
  } else if (ev.type === 'process.exec') {
    rec.exe = ev.exe;
    rec.argv = ev.argv;
    rec.cwd = ev.cwd;
    if (ev.comm) rec.comm = ev.comm;
    rec.tool = toolKey(ev.exe, ev.argv);
    if (!rec.parentKey && parent) {
      rec.parentKey = parent.key;
      if (!parent.children.includes(rec.key)) parent.children.push(rec.key);
    }
  }
  state.byPid.set(ev.pid, rec.key);
  if (ev.type === 'process.exec' && ev.cgroupId) rec.cgroupId = ev.cgroupId;
  else if (!rec.cgroupId && parent?.cgroupId) rec.cgroupId = parent.cgroupId;
  if (ev.type === 'process.exec') {
    const task = ctx.options.attribution?.({
      pid: rec.pid,
      ...(rec.upid ? { upid: rec.upid } : {}),
      ppid: rec.ppid,
      exe: rec.exe,
      argv: rec.argv,
      cwd: rec.cwd,
    });
    if (task) rec.task = task;
    else if (parent?.task) rec.task = { ...parent.task, isTaskRoot: false, isRunRoot: false };
    rec.settings = resolveSettings(
      ctx.options.config,
      rec.task?.pipeline ?? state.trace.pipeline,
      rec.task?.step ?? rec.tool,
    );
  }
  return rec;
}

/** Folds a sample in; returns what changed since the previous one. */
export function onSample(
  p: ProcessRecord,
  s: ProcessSample,
  liveChildren: boolean,
): { cpuDeltaNs: number; progressed: boolean } {
  const prevTs = p.lastSampleTs ?? p.startTs;
  const dt = Math.max(0, s.ts - prevTs);
  const cpuDeltaNs = Math.max(0, s.cpuNs - p.cpuNs);
  const ioDelta = Math.max(0, s.readBytes - p.readBytes) + Math.max(0, s.writeBytes - p.writeBytes);
  const netNow = (s.netSendBytes ?? 0) + (s.netRecvBytes ?? 0);
  const netBefore = (p.netSendBytes ?? 0) + (p.netRecvBytes ?? 0);
  const netDelta = Math.max(0, netNow - netBefore);
  const eps = p.settings.noProgress.cpuEpsilonNs;
  const progressed = cpuDeltaNs > eps || ioDelta > 0 || netDelta > 0;
  if (progressed) p.lastProgressTs = s.ts;
  // The state seen at each end of the interval stands for half of it.
  if (p.samples > 0) p.dStateNs += (p.state === 'D' ? dt / 2 : 0) + (s.state === 'D' ? dt / 2 : 0);
  if (netDelta > 0) p.lastNetTs = s.ts;
  else if (p.lastNetTs !== undefined && p.samples > 0 && cpuDeltaNs <= eps && ioDelta === 0 && !liveChildren)
    p.netIdleNs += dt;
  p.samples++;
  p.firstSampleTs ??= s.ts;
  p.lastSampleTs = s.ts;
  p.cpuNs = Math.max(p.cpuNs, s.cpuNs);
  p.rssBytes = s.rssBytes;
  p.peakRssBytes = Math.max(p.peakRssBytes, s.rssBytes);
  p.readBytes = Math.max(p.readBytes, s.readBytes);
  p.writeBytes = Math.max(p.writeBytes, s.writeBytes);
  if (s.ioWaitNs !== undefined) p.ioWaitNs = Math.max(p.ioWaitNs ?? 0, s.ioWaitNs);
  if (s.netSendBytes !== undefined) p.netSendBytes = s.netSendBytes;
  if (s.netRecvBytes !== undefined) p.netRecvBytes = s.netRecvBytes;
  if (s.syscalls) foldSyscalls(p, s.syscalls);
  p.state = s.state;
  return { cpuDeltaNs, progressed };
}

export function onExit(p: ProcessRecord, ev: ProcessExit): void {
  p.endTs = ev.ts;
  p.exit = { code: ev.exitCode, signal: ev.signal, coreDumped: ev.coreDumped, unknown: ev.exitCodeUnknown === true };
  p.cpuNs = Math.max(p.cpuNs, ev.cpuUserNs + ev.cpuSysNs);
  p.peakRssBytes = Math.max(p.peakRssBytes, ev.peakRssBytes);
  p.readBytes = Math.max(p.readBytes, ev.readBytes);
  p.writeBytes = Math.max(p.writeBytes, ev.writeBytes);
  if (ev.ioWaitNs !== undefined) p.ioWaitNs = Math.max(p.ioWaitNs ?? 0, ev.ioWaitNs);
  if (ev.netSendBytes !== undefined) p.netSendBytes = ev.netSendBytes;
  if (ev.netRecvBytes !== undefined) p.netRecvBytes = ev.netRecvBytes;
  if (ev.syscalls) foldSyscalls(p, ev.syscalls);
  if (ev.durationNs !== undefined && ev.durationNs > 0) p.startTs = Math.min(p.startTs, ev.ts - ev.durationNs);
}

function streamOf(p: ProcessRecord, stream: 'stdout' | 'stderr'): StreamState {
  let s = p.streams[stream];
  if (!s) {
    s = { cursor: createLogCursor(), findings: [], findingIndex: new Map(), tail: [], lastTs: 0 };
    p.streams[stream] = s;
  }
  return s;
}

function takeLine(
  p: ProcessRecord,
  stream: 'stdout' | 'stderr',
  s: StreamState,
  line: number,
  raw: string,
  ts: number,
) {
  const text = raw.length > MAX_STORED_LINE_CHARS ? `${raw.slice(0, MAX_STORED_LINE_CHARS)}...` : raw;
  s.tail.push({ line, text, ts });
  if (s.tail.length > MAX_TAIL) s.tail.shift();
  const m = classifyLogLine(s.cursor, raw);
  if (!m) return;
  const key = repeatKey(text);
  const at = s.findingIndex.get(key);
  if (at !== undefined) {
    const f = s.findings[at]!;
    f.count++;
    f.lastLine = line;
    f.lastTs = ts;
    return;
  }
  if (s.findings.length >= MAX_FINDINGS) return;
  s.findingIndex.set(key, s.findings.length);
  s.findings.push({
    pid: p.pid,
    ...(p.upid ? { upid: p.upid } : {}),
    stream,
    line,
    ts,
    text,
    ...m,
    count: 1,
    lastLine: line,
    lastTs: ts,
  });
}

/** Appends captured output; lines are numbered per process and stream as captured. */
export function onLog(p: ProcessRecord, c: LogChunk): void {
  const s = streamOf(p, c.stream);
  for (const l of feedLogChunk(s.cursor, c.text)) takeLine(p, c.stream, s, l.line, l.text, c.ts);
  s.lastTs = c.ts;
  p.lastOutputTs = c.ts;
  p.lastProgressTs = Math.max(p.lastProgressTs, c.ts);
}

export function flushLogs(p: ProcessRecord, ts: number): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const s = p.streams[stream];
    if (!s) continue;
    const l = flushLogCursor(s.cursor);
    if (l) takeLine(p, stream, s, l.line, l.text, ts);
  }
}

export function onSyscallError(p: ProcessRecord, e: SyscallError): void {
  const same = p.syscallErrors.find(
    (r) => r.syscall === e.syscall && r.errno === e.errno && r.path === e.path && r.addr === e.addr,
  );
  if (same) {
    // Periodic flushes of a long-running process send the new occurrences only: they add up.
    same.count += e.count;
    same.firstTs = Math.min(same.firstTs, e.firstTs ?? e.ts);
    same.lastTs = Math.max(same.lastTs, e.lastTs ?? e.ts);
    if (same.mount === undefined && e.mount !== undefined) same.mount = e.mount;
    if (same.flags === undefined && e.flags !== undefined) same.flags = e.flags;
    return;
  }
  if (p.syscallErrors.length >= MAX_SYSCALL_RECORDS) return;
  p.syscallErrors.push({
    syscall: e.syscall,
    errno: e.errno,
    count: e.count,
    ...(e.path !== undefined ? { path: e.path } : {}),
    ...(e.addr !== undefined ? { addr: e.addr } : {}),
    ...(e.mount !== undefined ? { mount: e.mount } : {}),
    ...(e.flags !== undefined ? { flags: e.flags } : {}),
    firstTs: e.firstTs ?? e.ts,
    lastTs: e.lastTs ?? e.ts,
  });
}

export function onFileOpen(p: ProcessRecord, f: FileOpen): void {
  if (!f.error) return;
  const same = p.failedOpens.find((o) => o.path === f.path && o.error === f.error);
  if (same) {
    same.count++;
    return;
  }
  if (p.failedOpens.length < MAX_SYSCALL_RECORDS)
    p.failedOpens.push({ path: f.path, error: f.error, count: 1, ts: f.ts, flags: f.flags });
}

export function isAlive(p: ProcessRecord): boolean {
  return p.exit === undefined;
}

export function hasLiveChildren(state: EngineState, p: ProcessRecord): boolean {
  return p.children.some((k) => {
    const c = state.processes.get(k);
    return c !== undefined && c.exit === undefined;
  });
}

export function failed(p: ProcessRecord): boolean {
  return p.exit !== undefined && !p.exit.unknown && (p.exit.code !== 0 || p.exit.signal !== null);
}

/** Syscall time by class is cumulative: keep the largest value seen per class. */
function foldSyscalls(p: ProcessRecord, c: NonNullable<ProcessSample['syscalls']>): void {
  p.syscallNs ??= {};
  for (const [k, v] of Object.entries(c)) if (v) p.syscallNs[k] = Math.max(p.syscallNs[k] ?? 0, v.ns);
}
