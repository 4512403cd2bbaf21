// The evidence packet: everything the root-cause step may look at for one failed process,
// bounded, and nothing else (it is also the whole LLM prompt). Built from engine state.
import type { RootCauseCategory } from '@tracer/events';
import { describeExit, signalName } from './exit-codes.ts';
import type { LogLevel } from './log-patterns.ts';
import type { EngineState, ProcessRecord, TaskRef } from './types.ts';

export interface EvidenceLine {
  pid: number;
  stream: 'stdout' | 'stderr';
  line: number;
  text: string;
  level?: LogLevel;
  count?: number;
  category?: RootCauseCategory;
  weight?: number;
  /** The process that printed it is the failing one (not a wrapper or a child). */
  own?: boolean;
}

export interface EvidencePacket {
  version: 1;
  process: {
    pid: number;
    upid?: string;
    tool: string;
    exe: string;
    argv: string[];
    cwd: string;
    startTs: number;
    endTs?: number;
    durationNs?: number;
  };
  task?: TaskRef;
  exit?: { code: number; signal: number | null; signalName?: string; coreDumped: boolean; meaning: string };
  /** From the failing process up to the process whose failure was reported, each exit status. */
  chain: Array<{ pid: number; tool: string; exitCode?: number; signal?: number | null }>;
  oom?: { constraint: string; memoryLimitBytes?: number; memoryUsageBytes?: number; victimRssBytes?: number };
  errorLines: EvidenceLine[];
  logTail: EvidenceLine[];
  resources: {
    peakRssBytes: number;
    cpuNs: number;
    readBytes: number;
    writeBytes: number;
    ioWaitNs?: number;
    netSendBytes?: number;
    netRecvBytes?: number;
  };
  host?: {
    cpus?: number;
    memoryBytes?: number;
    maxMemorySome10?: number;
    maxCpuSome10?: number;
    maxIoSome10?: number;
    minMemoryAvailableBytes?: number;
  };
  /** Failed calls of the failing process (and its failed children), newest first. */
  syscallErrors: Array<{
    pid: number;
    syscall: string;
    errno: string;
    count: number;
    path?: string;
    addr?: string;
    mount?: string;
    flags?: number;
    lastTs?: number;
  }>;
  failedOpens: Array<{ pid: number; path: string; error: string; count: number; flags?: number }>;
  /** Configured time limit of the step, when known. */
  timeLimitNs?: number;
  /** A timeout(1)-style wrapper among the ancestors exited 124. */
  killedByTimeout?: boolean;
}

const MAX_ERROR_LINES = 40;
const MAX_TAIL = 15;
const MAX_SYSCALL = 20;
const MAX_ARGS = 24;
const MAX_ARG_CHARS = 256;

/**
 * Failed calls that say nothing about the task: loaders, interpreters and libc probing for
 * optional files (libraries, locales, caches, dotfiles) fail like this in every healthy run.
 */
const noisePath = [
  /^\/(?:proc|sys|dev|run)\//,
  /^\/(?:usr\/)?(?:local\/)?(?:lib|lib32|lib64|libx32|libexec|share|include)\//,
  /\.so(?:\.[\d.]+)?$/,
  /\/(?:locale|gconv|zoneinfo|terminfo|fonts)\//,
  /__pycache__|\.pyc$|\.pth$|pyvenv\.cfg$|site-packages|dist-packages|\/python\d/,
  /(?:^|\/)etc\//,
  /(?:^|\/)\.[^/]+/,
  /^\/nix\/store\/|^\/opt\/conda\/(?:lib|pkgs|share|etc|conda-meta)\//,
  /^\/(?:usr\/)?s?bin\/|^\/usr\/local\/s?bin\//,
];

export function isNoisePath(path: string | undefined): boolean {
  return path !== undefined && noisePath.some((re) => re.test(path));
}

const fileSyscalls =
  /^(?:open|openat|openat2|creat|stat|lstat|newfstatat|statx|access|faccessat2?|readlink|readlinkat|truncate|ftruncate|mkdir|mkdirat|rename|renameat2?|unlink|unlinkat|write|pwrite64|writev|fsync|fdatasync|fallocate|link|linkat|symlink|symlinkat|chdir)$/;

/** Keeps the failed calls that can explain a failure. */
export function relevantSyscallError(e: { syscall: string; errno: string; path?: string; addr?: string }): boolean {
  // A fork refused for the process limit (RLIMIT_NPROC, pids.max).
  if (e.errno === 'EAGAIN') return isForkCall(e.syscall);
  if (
    [
      'ENOSPC',
      'EDQUOT',
      'EROFS',
      'ECONNREFUSED',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'ECONNRESET',
      'EMFILE',
      'ENFILE',
    ].includes(e.errno)
  )
    return true;
  if (e.errno === 'ENOMEM') return true;
  if (
    e.errno === 'ENOENT' ||
    e.errno === 'EACCES' ||
    e.errno === 'EPERM' ||
    e.errno === 'ENOTDIR' ||
    e.errno === 'EISDIR'
  ) {
    if (e.syscall === 'execve' || e.syscall === 'execveat') return false;
    if (!e.path || isNoisePath(e.path)) return false;
    return fileSyscalls.test(e.syscall) || e.syscall.startsWith('open');
  }
  return false;
}

export const O_ACCMODE = 3;
export const O_CREAT = 0o100;

export function isForkCall(syscall: string): boolean {
  return /^(?:clone|clone3|fork|vfork)$/.test(syscall);
}
export function isOpenCall(syscall: string): boolean {
  return /^(?:open|openat|openat2|creat)$/.test(syscall);
}
export function isExecCall(syscall: string): boolean {
  return syscall === 'execve' || syscall === 'execveat';
}

/** What a failed open was for: reading an input, creating an output, or unknown (no flags). */
export function openIntent(e: { syscall: string; flags?: number }): 'input' | 'output' | 'write' | undefined {
  if (e.syscall === 'creat') return 'output';
  if (e.flags === undefined || !isOpenCall(e.syscall)) return undefined;
  if (e.flags & O_CREAT) return 'output';
  return (e.flags & O_ACCMODE) === 0 ? 'input' : 'write';
}

/** The program the process itself runs (exe or argv[0], e.g. sh for /usr/bin/dash): its PATH search is no missing command. */
function ownProgram(p: ProcessRecord, path: string): boolean {
  const base = path.split('/').pop();
  return base === p.exe.split('/').pop() || base === p.argv[0]?.split('/').pop();
}

function ancestorsUpTo(state: EngineState, from: ProcessRecord, top: ProcessRecord | undefined): ProcessRecord[] {
  const out: ProcessRecord[] = [];
  let p: ProcessRecord | undefined = from;
  const seen = new Set<string>();
  while (p && !seen.has(p.key)) {
    seen.add(p.key);
    out.push(p);
    if (top && p.key === top.key) break;
    p = p.parentKey ? state.processes.get(p.parentKey) : undefined;
    if (!top && out.length > 1) break;
  }
  return out;
}

function descendants(state: EngineState, root: ProcessRecord, limit = 64): ProcessRecord[] {
  const out: ProcessRecord[] = [];
  const queue = [...root.children];
  while (queue.length && out.length < limit) {
    const p = state.processes.get(queue.shift()!);
    if (!p) continue;
    out.push(p);
    queue.push(...p.children);
  }
  return out;
}

function boundArgv(argv: string[]): string[] {
  const args = argv.slice(0, MAX_ARGS).map((a) => (a.length > MAX_ARG_CHARS ? `${a.slice(0, MAX_ARG_CHARS)}...` : a));
  if (argv.length > MAX_ARGS) args.push(`... ${argv.length - MAX_ARGS} more`);
  return args;
}

/**
 * The packet for `culprit`, the process that failed first; `reported` is the process whose
 * failure surfaced (the culprit or an ancestor that passed its status on).
 */
export function buildEvidencePacket(
  state: EngineState,
  culprit: ProcessRecord,
  reported?: ProcessRecord,
): EvidencePacket {
  const chain = ancestorsUpTo(state, culprit, reported ?? culprit);
  // Children that succeeded handled whatever they printed or failed to open (probes, retries).
  const related = [...chain, ...descendants(state, culprit).filter((d) => !succeeded(d))];
  const errorLines: EvidenceLine[] = [];
  for (const p of related) {
    for (const stream of ['stderr', 'stdout'] as const) {
      const s = p.streams[stream];
      if (!s) continue;
      for (const f of s.findings) {
        errorLines.push({
          pid: p.pid,
          stream,
          line: f.line,
          text: f.text,
          level: f.level,
          count: f.count,
          ...(f.category ? { category: f.category, weight: f.weight } : {}),
          own: p.key === culprit.key,
        });
      }
    }
  }
  // Errors before warnings, then the failing process's own lines, then the heaviest causes.
  errorLines.sort((a, b) => rank(b) - rank(a));
  const keptLines = errorLines
    .slice(0, MAX_ERROR_LINES)
    .sort((a, b) => a.pid - b.pid || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : a.line - b.line));

  const tailSource = culprit.streams.stderr?.tail.length ? 'stderr' : 'stdout';
  const logTail: EvidenceLine[] = (culprit.streams[tailSource]?.tail ?? [])
    .slice(-MAX_TAIL)
    .map((t) => ({ pid: culprit.pid, stream: tailSource, line: t.line, text: t.text }));

  const syscallErrors: EvidencePacket['syscallErrors'] = [];
  const failedOpens: EvidencePacket['failedOpens'] = [];
  // Wrappers (the chain above the culprit) probe for files as a matter of course (outputs,
  // configs): their failed calls stay out; their messages (log lines) stay in.
  for (const p of related.filter((r) => !chain.includes(r) || r.key === culprit.key)) {
    // A shell that exited 127 after a failed execve: the command it could not find.
    const notFound = p.exit?.code === 127 || (p.key === culprit.key && culprit.exit?.code === 127);
    for (const e of p.syscallErrors) {
      // ...not the PATH search that found the process's own program (sh in /root/go/bin, ...).
      const exec = isExecCall(e.syscall) && e.errno === 'ENOENT' && notFound && !!e.path && !ownProgram(p, e.path);
      if (exec || relevantSyscallError(e))
        syscallErrors.push({
          pid: p.pid,
          syscall: e.syscall,
          errno: e.errno,
          count: e.count,
          ...(e.path ? { path: e.path } : {}),
          ...(e.addr ? { addr: e.addr } : {}),
          ...(e.mount ? { mount: e.mount } : {}),
          ...(e.flags !== undefined ? { flags: e.flags } : {}),
          lastTs: e.lastTs,
        });
    }
    for (const o of p.failedOpens) {
      // The same failed open seen by both hooks (file.open with an error and syscall.error) is one.
      const dup = p.syscallErrors.some((e) => e.path === o.path && e.errno === o.error && isOpenCall(e.syscall));
      if (!dup && relevantSyscallError({ syscall: 'openat', errno: o.error, path: o.path }))
        failedOpens.push({
          pid: p.pid,
          path: o.path,
          error: o.error,
          count: o.count,
          ...(o.flags !== undefined ? { flags: o.flags } : {}),
        });
    }
  }
  // The failing process's own calls first, then the newest: the last failure before the exit decides.
  syscallErrors.sort(
    (a, b) => Number(b.pid === culprit.pid) - Number(a.pid === culprit.pid) || (b.lastTs ?? 0) - (a.lastTs ?? 0),
  );

  const exit = culprit.exit;
  const packet: EvidencePacket = {
    version: 1,
    process: {
      pid: culprit.pid,
      ...(culprit.upid ? { upid: culprit.upid } : {}),
      tool: culprit.tool,
      exe: culprit.exe,
      argv: boundArgv(culprit.argv),
      cwd: culprit.cwd,
      startTs: culprit.startTs,
      ...(culprit.endTs !== undefined
        ? { endTs: culprit.endTs, durationNs: Math.max(0, culprit.endTs - culprit.startTs) }
        : {}),
    },
    ...(culprit.task ? { task: culprit.task } : {}),
    ...(exit
      ? {
          exit: {
            code: exit.code,
            signal: exit.signal,
            ...(exit.signal ? { signalName: signalName(exit.signal) } : {}),
            coreDumped: exit.coreDumped,
            meaning: describeExit(exit.code, exit.signal),
          },
        }
      : {}),
    chain: chain.map((p) => ({
      pid: p.pid,
      tool: p.tool,
      ...(p.exit ? { exitCode: p.exit.code, signal: p.exit.signal } : {}),
    })),
    ...(culprit.oom
      ? {
          oom: {
            constraint: culprit.oom.constraint,
            ...(culprit.oom.memoryLimitBytes !== undefined ? { memoryLimitBytes: culprit.oom.memoryLimitBytes } : {}),
            ...(culprit.oom.memoryUsageBytes !== undefined ? { memoryUsageBytes: culprit.oom.memoryUsageBytes } : {}),
            ...(culprit.oom.victimRssBytes !== undefined ? { victimRssBytes: culprit.oom.victimRssBytes } : {}),
          },
        }
      : {}),
    errorLines: keptLines,
    logTail,
    resources: {
      peakRssBytes: culprit.peakRssBytes,
      cpuNs: culprit.cpuNs,
      readBytes: culprit.readBytes,
      writeBytes: culprit.writeBytes,
      ...(culprit.ioWaitNs !== undefined ? { ioWaitNs: culprit.ioWaitNs } : {}),
      ...(culprit.netSendBytes !== undefined ? { netSendBytes: culprit.netSendBytes } : {}),
      ...(culprit.netRecvBytes !== undefined ? { netRecvBytes: culprit.netRecvBytes } : {}),
    },
    syscallErrors: syscallErrors.slice(0, MAX_SYSCALL),
    failedOpens: failedOpens.slice(0, MAX_SYSCALL),
  };
  const h = culprit.hostSeen;
  if (h || state.host.cpus) {
    packet.host = {
      ...(state.host.cpus ? { cpus: state.host.cpus } : {}),
      ...(state.host.memoryBytes ? { memoryBytes: state.host.memoryBytes } : {}),
      ...(h?.maxMemorySome10 !== undefined ? { maxMemorySome10: h.maxMemorySome10 } : {}),
      ...(h?.maxCpuSome10 !== undefined ? { maxCpuSome10: h.maxCpuSome10 } : {}),
      ...(h?.maxIoSome10 !== undefined ? { maxIoSome10: h.maxIoSome10 } : {}),
      ...(h?.minMemoryAvailableBytes !== undefined ? { minMemoryAvailableBytes: h.minMemoryAvailableBytes } : {}),
    };
  }
  if (culprit.settings.timeLimit.limitNs) packet.timeLimitNs = culprit.settings.timeLimit.limitNs;
  if (chain.some((p) => p.key !== culprit.key && p.exit?.code === 124 && /^timeout\b/.test(p.tool)))
    packet.killedByTimeout = true;
  return packet;
}

function succeeded(p: ProcessRecord): boolean {
  return p.exit !== undefined && p.exit.code === 0 && p.exit.signal === null;
}

function rank(l: EvidenceLine): number {
  return (l.level === 'error' ? 4 : 0) + (l.own ? 2 : 0) + (l.weight ?? 0);
}
