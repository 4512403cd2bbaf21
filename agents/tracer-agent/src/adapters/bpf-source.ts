// The eBPF source (mode 'bpf'): bpf/ programs loaded by the tracer_bpf addon, their records
// turned into SourceRecords: upids from the kernel's start times, boot-time stamps to wall
// clock, the kernel's own user/system CPU split, pages to bytes. createBpfSource throws an
// Error whose message says why BPF cannot be used, so the caller can fall back to /proc.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants, release } from 'node:os';
import { createLogger } from '@tracer/log';
import { splitCpuTime } from '../core/cpu-time.ts';
import type { ProcessCounters, SourceOptions, SourceRecord, SourceStats, TelemetrySource } from '../core/source.ts';
import { bootIdPrefix } from '../core/upid.ts';
import { releaseInBackground } from './background-release.ts';
import {
  type KernelLosses,
  LOG_TARGET_BITS,
  loadTracerAddon,
  type RawRecord,
  type SyscallClasses,
  type Tracer,
  type TracerAddon,
  type TracerOptions,
} from './bpf-addon.ts';
import { mountOfPath, parseMountPoints, SyscallErrorAggregator, type SyscallErrorStats } from './bpf-syscall-errors.ts';
import {
  CgroupDirectory,
  type CgroupResources,
  ContainerTracker,
  cgroupIdHierarchy,
  cgroupMounts,
  type RuntimeRoots,
  readCgroupResources,
} from './containers.ts';
import { decodeWaitStatus } from './procfs.ts';
import { ensureTracefs } from './tracefs.ts';

const log = createLogger('bpf-source');

export interface BpfSourceOptions extends SourceOptions {
  /** Ring buffer size in bytes (a power of two); 16 MiB holds tens of thousands of records. */
  ringBytes?: number;
  /** Longest a record waits in the kernel before delivery when few arrive (default 50 ms). */
  drainIntervalMs?: number;
  /** file.open records per process: sustained rate and burst. */
  openRatePerSec?: number;
  openBurst?: number;
  /** stdout + stderr bytes captured per process per second. */
  logBytesPerSec?: number;
  /** Optional programs to leave out: oom, iowait, net, files, output, syscalls, cgroups. */
  disabled?: string[];
  /** What stdout and stderr are captured into (default OUTPUT_CAPTURE_POLICY). */
  outputCapture?: OutputCapturePolicy;
  /** Sleeps inside syscalls by class (default true; failed calls are reported either way). */
  timeSyscalls?: boolean;
  /** Also report failed stat, access, readlink, getdents (default false: existence checks,
   * called by the million in metadata-heavy tools; their hook would cost several percent). */
  errorProbes?: boolean;
  /** New failed-syscall records per process: sustained rate and burst (kernel side). */
  errorRatePerSec?: number;
  errorBurst?: number;
  /** How often syscall.error series of long-running processes are flushed (default 30 s). */
  errorFlushIntervalMs?: number;
  /** Where container runtimes keep their state (tests). */
  runtimeRoots?: RuntimeRoots;
  /** Where the addon is (tests). */
  addonPath?: string;
}

export type LogTarget = keyof typeof LOG_TARGET_BITS;

/** Which targets of fd 1 and fd 2 have their writes captured. */
export interface OutputCapturePolicy {
  stdout: readonly LogTarget[];
  stderr: readonly LogTarget[];
}

/**
 * Output data is never collected (DESIGN.md section 4): stdout is captured only when it goes
 * to a pipe, a terminal or a socket, never into a file (`samtools view > out.sam`) or a device
 * (`> /dev/null`); stderr is diagnostics, kept in files (`2> log`) and /dev/null too. What the
 * policy leaves out is counted (per process in process.exit outputSkippedBytes, and in
 * kernelLosses().logSkippedBytes).
 */
export const OUTPUT_CAPTURE_POLICY: OutputCapturePolicy = {
  stdout: ['pipe', 'tty', 'socket'],
  stderr: ['pipe', 'tty', 'socket', 'file', 'device'],
};

/** The policy as the kernel's per-stream target bit masks. */
export function captureTargetBits(policy: OutputCapturePolicy): [number, number] {
  const bits = (targets: readonly LogTarget[]) => targets.reduce((m, t) => m | LOG_TARGET_BITS[t], 0);
  return [bits(policy.stdout), bits(policy.stderr)];
}

const BTF_PATH = '/sys/kernel/btf/vmlinux';
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Why this host cannot run the programs, before trying: undefined when it looks able. */
export function bpfPrerequisiteProblem(): string | undefined {
  const [major = 0, minor = 0] = release().split(/[.-]/).map(Number);
  if (major < 5 || (major === 5 && minor < 8)) {
    return `kernel ${release()} is older than 5.8 (BPF ring buffer, BTF tracepoints)`;
  }
  if (!existsSync(BTF_PATH)) {
    return `this kernel has no BTF (${BTF_PATH} is missing: it needs CONFIG_DEBUG_INFO_BTF=y)`;
  }
  let capEff: bigint;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    capEff = m ? BigInt(`0x${m[1]}`) : 0n;
  } catch {
    return undefined;
  }
  const has = (cap: bigint) => (capEff >> cap) & 1n;
  if (!has(CAP_SYS_ADMIN) && !(has(CAP_BPF) && has(CAP_PERFMON))) {
    return 'missing capability: loading BPF programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); run as root';
  }
  return undefined;
}

/** The load failure in words a user can act on. */
export function explainLoadError(
  err: Error & { program?: string; step?: string; errno?: number; detail?: string },
): string {
  const what = err.program ? `${err.program} ${err.step ?? ''}`.trim() : 'loading';
  const detail = (err.detail ?? '').trim();
  const lastLines = detail
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-3)
    .join(' | ');
  if (err.step === 'load' && detail.includes('BEGIN PROG LOAD LOG')) {
    return `the kernel verifier rejected the ${err.program} program: ${lastLines}`;
  }
  if (err.errno === 1 || err.errno === 13) {
    return `the kernel refused BPF (${what}: ${err.message}); root with CAP_BPF and CAP_PERFMON is needed, and kernel lockdown may forbid it`;
  }
  if (err.step === 'btf') return `cannot read the kernel's BTF (${err.message})`;
  return `${what} failed: ${err.message}${lastLines ? ` (${lastLines})` : ''}`;
}

/** Whether the memory controller is on a v1 hierarchy (hybrid hosts), for cgroupId. */
export function memoryCgroupIsV1(): boolean {
  try {
    if (readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes('memory')) return false;
  } catch {}
  return existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');
}

/** pids of the running descendants of `root` (root excluded), from /proc. */
export function runningDescendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

export interface RecordContext {
  bootPrefix: string;
  /** CLOCK_REALTIME - CLOCK_BOOTTIME, ns. */
  bootToWallNs: number;
  pageSize: number;
}

/** Syscall classes as events carry them (none: absent). */
function syscallClasses(raw: SyscallClasses): SyscallClasses | undefined {
  return Object.keys(raw).length > 0 ? raw : undefined;
}

const withSyscalls = (syscalls: SyscallClasses | undefined) => (syscalls ? { syscalls } : {});
const upid = (c: RecordContext, pid: number, startNs: bigint) => `${c.bootPrefix}-${pid}-${startNs}`;
const wall = (c: RecordContext, bootNs: number) => Math.round(bootNs + c.bootToWallNs);
const decoder = new TextDecoder('utf-8');

/** Addon records to SourceRecords (an exit with undelivered output drops yields two). */
export function toSourceRecords(raw: RawRecord, c: RecordContext): SourceRecord[] {
  const id = { pid: raw.pid, upid: upid(c, raw.pid, raw.startNs) };
  switch (raw.kind) {
    case 'fork':
      return [
        {
          type: 'process.fork',
          ts: wall(c, raw.tsNs),
          ...id,
          ppid: raw.ppid,
          parentUpid: upid(c, raw.ppid, raw.parentStartNs),
        },
      ];
    case 'exec':
      return [
        {
          type: 'process.exec',
          ts: wall(c, raw.tsNs),
          ...id,
          ppid: raw.ppid,
          parentUpid: upid(c, raw.ppid, raw.parentStartNs),
          uid: raw.uid,
          exe: raw.exe,
          argv: raw.argv,
          argvTruncated: raw.argvTruncated,
          cwd: raw.cwd,
          comm: raw.comm,
          cgroupId: raw.cgroupId,
        },
      ];
    case 'exit': {
      const status = decodeWaitStatus(raw.exitStatus);
      const cpu = splitCpuTime({
        sumExecNs: raw.sumExecNs,
        utimeNs: raw.utimeNs,
        stimeNs: raw.stimeNs,
        prevUtimeNs: raw.prevUtimeNs,
        prevStimeNs: raw.prevStimeNs,
      });
      const ts = wall(c, raw.exitNs);
      const out: SourceRecord[] = [];
      // Output dropped after the process's last chunk: the gap marker the chunk would carry.
      if (raw.stdoutDroppedBytes > 0)
        out.push({ type: 'log.chunk', ts, ...id, stream: 'stdout', text: '', droppedBytes: raw.stdoutDroppedBytes });
      if (raw.stderrDroppedBytes > 0)
        out.push({ type: 'log.chunk', ts, ...id, stream: 'stderr', text: '', droppedBytes: raw.stderrDroppedBytes });
      out.push({
        type: 'process.exit',
        ts,
        ...id,
        exitCode: status.exitCode,
        signal: status.signal,
        coreDumped: status.coreDumped,
        durationNs: Math.max(0, raw.exitNs - Number(raw.startNs)),
        cpuUserNs: Number(cpu.userNs),
        cpuSysNs: Number(cpu.sysNs),
        peakRssBytes: raw.maxrssPages * c.pageSize,
        ...(raw.execMaxrssPages > 0 ? { execPeakRssBytes: raw.execMaxrssPages * c.pageSize } : {}),
        readBytes: raw.rchar,
        writeBytes: raw.wchar,
        storageReadBytes: raw.readBytes,
        storageWriteBytes: Math.max(0, raw.writeBytes - raw.cancelledWriteBytes),
        ioWaitNs: raw.ioWaitNs,
        netSendBytes: raw.netSendBytes,
        netRecvBytes: raw.netRecvBytes,
        voluntaryCtxSwitches: raw.nvcsw,
        involuntaryCtxSwitches: raw.nivcsw,
        ...(raw.logSkippedBytes > 0 ? { outputSkippedBytes: raw.logSkippedBytes } : {}),
        ...withSyscalls(syscallClasses(raw.syscalls)),
      });
      return out;
    }
    case 'oom':
      return [
        {
          type: 'oom.kill',
          ts: wall(c, raw.tsNs),
          victimPid: raw.pid,
          victimUpid: id.upid,
          victimComm: raw.comm,
          triggerPid: raw.triggerPid,
          constraint: raw.constraint,
          ...(raw.cgroupId !== '0' ? { cgroupId: raw.cgroupId } : {}),
          ...(raw.limitPages > 0 ? { memoryLimitBytes: raw.limitPages * c.pageSize } : {}),
          ...(raw.usagePages > 0 ? { memoryUsageBytes: raw.usagePages * c.pageSize } : {}),
          victimRssBytes: raw.victimRssPages * c.pageSize,
        },
      ];
    case 'open':
      return [
        {
          type: 'file.open',
          ts: wall(c, raw.tsNs),
          ...id,
          path: raw.path,
          flags: raw.flags,
          ...(raw.ret < 0 ? { error: ERRNO_NAMES.get(-raw.ret) ?? `E${-raw.ret}` } : {}),
        },
      ];
    case 'log':
      return [
        {
          type: 'log.chunk',
          ts: wall(c, raw.tsNs),
          ...id,
          stream: raw.stream === 2 ? 'stderr' : 'stdout',
          text: decoder.decode(raw.data),
          ...(raw.droppedBytes > 0 ? { droppedBytes: raw.droppedBytes } : {}),
        },
      ];
    default:
      return [];
  }
}

export class BpfSource implements TelemetrySource {
  readonly mode = 'bpf' as const;
  private readonly tracer: Tracer;
  private readonly context: RecordContext;
  private readonly errors: SyscallErrorAggregator;
  private readonly containers: ContainerTracker;
  private readonly mounts: { v1Memory?: string; v2?: string };
  private readonly errorFlushIntervalMs: number;
  private readonly cgroupCache = new Map<number, { atMs: number; value: CgroupResources | undefined }>();
  private onBatch: ((batch: SourceRecord[]) => void) | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private droppedUser = 0;
  private stopped = false;
  private lastKernelDrops = 0;

  constructor(
    tracer: Tracer,
    context: RecordContext,
    options: {
      containers?: ContainerTracker;
      mounts?: { v1Memory?: string; v2?: string };
      errorFlushIntervalMs?: number;
    } = {},
  ) {
    this.tracer = tracer;
    this.context = context;
    this.containers = options.containers ?? new ContainerTracker(undefined);
    this.mounts = options.mounts ?? {};
    this.errorFlushIntervalMs = options.errorFlushIntervalMs ?? 30_000;
    this.errors = new SyscallErrorAggregator({
      toWallNs: (bootNs) => wall(context, bootNs),
      mountOf: mountOfFailure,
    });
  }

  /** Programs loaded (process, oom, iowait, net, files, output, syscalls, cgroups). */
  get loaded(): string[] {
    return this.tracer.loaded;
  }

  /** What could not be loaded or attached, and why: capture without it. */
  get unavailable(): { program: string; step: string; errno: number; reason: string }[] {
    return this.tracer.unavailable.map((p) => ({
      program: p.program,
      step: p.step,
      errno: p.errno,
      reason: p.detail || p.message,
    }));
  }

  async start(onBatch: (batch: SourceRecord[]) => void): Promise<void> {
    let malformedSeen = 0;
    this.onBatch = onBatch;
    this.tracer.start((batch, malformed) => {
      this.droppedUser += malformed - malformedSeen;
      malformedSeen = malformed;
      const out = this.convert(batch);
      if (out.length > 0) onBatch(out);
    });
    if (this.errorFlushIntervalMs > 0) {
      this.flushTimer = setInterval(() => {
        const out = this.errors.flush();
        if (out.length > 0) onBatch(out);
      }, this.errorFlushIntervalMs);
      this.flushTimer.unref();
    }
  }

  /** One drained batch to SourceRecords: failures held until their process ends, containers
   * named on exec records. */
  private convert(batch: RawRecord[]): SourceRecord[] {
    const out: SourceRecord[] = [];
    for (const raw of batch) {
      switch (raw.kind) {
        case 'syscallError':
          this.errors.onError(raw, upid(this.context, raw.pid, raw.startNs));
          continue;
        case 'syscallErrorCount':
          this.errors.onCount(raw, upid(this.context, raw.pid, raw.startNs));
          continue;
        case 'cgroup': {
          const stop = this.containers.onCgroup(raw.op, raw.cgroupId, raw.path, wall(this.context, raw.tsNs));
          if (stop) out.push(stop);
          continue;
        }
        default:
      }
      for (const r of toSourceRecords(raw, this.context)) {
        if (r.type === 'process.exec') {
          const { containerId, start } = this.containers.onExec(r.cgroupId, r.pid, r.ts);
          if (start) out.push(start);
          out.push(containerId !== undefined ? { ...r, containerId } : r);
        } else if (r.type === 'process.exit') {
          out.push(...this.errors.onExit(r.upid, { failed: r.exitCode !== 0 || r.signal !== null }));
          out.push(r);
        } else {
          out.push(r);
        }
      }
    }
    return out;
  }

  /**
   * `releaseInBackground`: leave the slow part of detaching to a helper process (for a CLI
   * about to exit: `tracer run`), see background-release.ts.
   */
  async stop(options: { releaseInBackground?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    if (this.flushTimer) clearInterval(this.flushTimer);
    try {
      if (options.releaseInBackground) releaseInBackground(this.tracer.slowLinkFds());
    } finally {
      this.tracer.stop(); // its ring-buffer poll would keep the process alive
    }
    this.stopped = true;
    // Processes still running when capture ends: what they have failed so far.
    const rest = this.errors.flush(true);
    if (rest.length > 0) this.onBatch?.(rest);
  }

  /** Delivers what the kernel holds now (tests, and `tracer run` right after the child exits). */
  drain(): number {
    return this.stopped ? 0 : this.tracer.drain();
  }

  stats(): SourceStats {
    if (this.stopped) return { droppedKernel: this.lastKernelDrops, droppedUser: this.droppedUser };
    const l = this.tracer.losses();
    this.lastKernelDrops = l.ringbuf + l.trackedFull;
    return { droppedKernel: this.lastKernelDrops, droppedUser: this.droppedUser };
  }

  /** Everything the kernel side turned away, suppressed or (by policy) skipped, by kind. */
  kernelLosses(): KernelLosses {
    return this.tracer.losses();
  }

  /** What the failed-syscall policy emitted, left out and forgot. */
  syscallErrorStats(): SyscallErrorStats {
    return { ...this.errors.stats };
  }

  /**
   * Kernel counters of a live process (I/O wait, network bytes), its syscall time by class
   * (cumulative) and its cgroup's memory limit, usage and pressure (read at most once a second
   * per process).
   */
  counters(pid: number): (ProcessCounters & { syscalls?: SyscallClasses; cgroup?: CgroupResources }) | undefined {
    if (this.stopped) return undefined;
    const c = this.tracer.counters(pid);
    if (!c) return undefined;
    const out: ProcessCounters & { syscalls?: SyscallClasses; cgroup?: CgroupResources } = {
      ioWaitNs: c.ioWaitNs,
      netSendBytes: c.netSendBytes,
      netRecvBytes: c.netRecvBytes,
    };
    const syscalls = syscallClasses(c.syscalls);
    if (syscalls) out.syscalls = syscalls;
    const cgroup = this.cgroupResources(pid);
    if (cgroup) out.cgroup = cgroup;
    return out;
  }

  private cgroupResources(pid: number): CgroupResources | undefined {
    const now = Date.now();
    const hit = this.cgroupCache.get(pid);
    if (hit && now - hit.atMs < 1000) return hit.value;
    const value = readCgroupResources(pid, this.mounts);
    this.cgroupCache.set(pid, { atMs: now, value });
    if (this.cgroupCache.size > 4096) {
      for (const [k, v] of this.cgroupCache) if (now - v.atMs >= 1000) this.cgroupCache.delete(k);
    }
    return value;
  }
}

/** The mount point of a failed call's path, as the failing process sees it (its mountinfo
 * while it is alive, else ours). */
function mountOfFailure(path: string, pid: number): string | undefined {
  for (const file of [`/proc/${pid}/mountinfo`, '/proc/self/mountinfo']) {
    try {
      return mountOfPath(path, parseMountPoints(readFileSync(file, 'utf8')));
    } catch {}
  }
  return undefined;
}

/** Loads and attaches the programs; throws an Error saying exactly why BPF cannot be used. */
export async function createBpfSource(options: BpfSourceOptions): Promise<BpfSource> {
  const addon: TracerAddon = loadTracerAddon(options.addonPath);
  const problem = bpfPrerequisiteProblem();
  if (problem) throw new Error(problem);
  const tracefs = ensureTracefs();
  if (!tracefs.ok) log.warn({ tracefs: false }, tracefs.problem);
  else if (tracefs.mounted)
    log.info({ tracefs: tracefs.root }, `mounted tracefs at ${tracefs.root} for the syscall tracepoints`);
  const root = options.descendantsOf ?? 0;
  const tracerOptions: TracerOptions = {
    rootTgid: root,
    selfTgid: process.pid,
    cgroupV1Memory: memoryCgroupIsV1(),
    log: (level, message) => log.debug({ libbpf: level }, message),
    ...(options.ringBytes !== undefined ? { ringBytes: options.ringBytes } : {}),
    ...(options.drainIntervalMs !== undefined ? { drainIntervalMs: options.drainIntervalMs } : {}),
    ...(options.openRatePerSec !== undefined ? { openRatePerSec: options.openRatePerSec } : {}),
    ...(options.openBurst !== undefined ? { openBurst: options.openBurst } : {}),
    ...(options.logBytesPerSec !== undefined ? { logBytesPerSec: options.logBytesPerSec } : {}),
    ...(options.disabled !== undefined ? { disabled: options.disabled } : {}),
    captureTargets: captureTargetBits(options.outputCapture ?? OUTPUT_CAPTURE_POLICY),
    ...(options.timeSyscalls !== undefined ? { timeSyscalls: options.timeSyscalls } : {}),
    ...(options.errorProbes !== undefined ? { errorProbes: options.errorProbes } : {}),
    ...(options.errorRatePerSec !== undefined ? { errorRatePerSec: options.errorRatePerSec } : {}),
    ...(options.errorBurst !== undefined ? { errorBurst: options.errorBurst } : {}),
  };
  let tracer: Tracer;
  try {
    tracer = new addon.Tracer(tracerOptions);
  } catch (err) {
    throw new Error(explainLoadError(err as Error));
  }
  for (const p of tracer.unavailable) {
    // A kernel that refuses trampolines or lacks a function says so on every run: not news
    // for the user's stderr. The reason stays on `unavailable`. Anything else (the verifier
    // refusing one of ours) loses part of the capture, and the user hears it.
    const level = isKernelLimitation(p) ? 'debug' : 'warn';
    log[level](
      { program: p.program, step: p.step, errno: p.errno },
      `BPF ${p.program} unavailable: ${p.detail || p.message}`,
    );
  }
  // Processes of the subtree already running: the kernel only sees forks from now on.
  if (root) for (const pid of runningDescendants(root)) tracer.track(pid);
  // exec cgroupIds name directories of this hierarchy; its map is filled before capture.
  const hierarchy = cgroupIdHierarchy(tracerOptions.cgroupV1Memory === true);
  const directory = hierarchy ? new CgroupDirectory(hierarchy) : undefined;
  directory?.scan();
  return new BpfSource(
    tracer,
    {
      bootPrefix: bootIdPrefix(options.bootId),
      bootToWallNs: Number(addon.bootToRealtimeNs()),
      pageSize: addon.pageSize,
    },
    {
      containers: new ContainerTracker(directory, options.runtimeRoots),
      mounts: cgroupMounts(),
      ...(options.errorFlushIntervalMs !== undefined ? { errorFlushIntervalMs: options.errorFlushIntervalMs } : {}),
    },
  );
}

const ENOENT = 2;
const EPERM = 1;
const ENOTSUPP = 524;
const EOPNOTSUPP = 95;

/** Failures that are a fixed property of this kernel (lockdown, a function or tracepoint it
 * does not have), as opposed to something that went wrong on this run. */
export function isKernelLimitation(p: { program: string; step: string; errno: number }): boolean {
  if (p.program.endsWith(':fentry/fexit')) return [EPERM, ENOTSUPP, EOPNOTSUPP].includes(p.errno);
  return p.errno === ENOENT && (p.step === 'open' || p.step === 'attach');
}
