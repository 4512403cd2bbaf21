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
import { loadTracerAddon, type RawRecord, type Tracer, type TracerAddon, type TracerOptions } from './bpf-addon.ts';
import { decodeWaitStatus } from './procfs.ts';

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
  /** Optional programs to leave out: oom, iowait, net, files, output. */
  disabled?: string[];
  /** Where the addon is (tests). */
  addonPath?: string;
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
        readBytes: raw.rchar,
        writeBytes: raw.wchar,
        storageReadBytes: raw.readBytes,
        storageWriteBytes: Math.max(0, raw.writeBytes - raw.cancelledWriteBytes),
        ioWaitNs: raw.ioWaitNs,
        netSendBytes: raw.netSendBytes,
        netRecvBytes: raw.netRecvBytes,
        voluntaryCtxSwitches: raw.nvcsw,
        involuntaryCtxSwitches: raw.nivcsw,
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
  private droppedUser = 0;
  private stopped = false;

  constructor(tracer: Tracer, context: RecordContext) {
    this.tracer = tracer;
    this.context = context;
  }

  /** Programs loaded (process, oom, iowait, net, files, output). */
  get loaded(): string[] {
    return this.tracer.loaded;
  }

  /** What could not be loaded or attached, and why: capture without it. */
  get unavailable(): { program: string; step: string; reason: string }[] {
    return this.tracer.unavailable.map((p) => ({ program: p.program, step: p.step, reason: p.detail || p.message }));
  }

  async start(onBatch: (batch: SourceRecord[]) => void): Promise<void> {
    let malformedSeen = 0;
    this.tracer.start((batch, malformed) => {
      this.droppedUser += malformed - malformedSeen;
      malformedSeen = malformed;
      const out: SourceRecord[] = [];
      for (const raw of batch) for (const r of toSourceRecords(raw, this.context)) out.push(r);
      if (out.length > 0) onBatch(out);
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.tracer.stop();
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

  private lastKernelDrops = 0;

  /** Everything the kernel side turned away or suppressed, by kind. */
  kernelLosses(): { ringbuf: number; trackedFull: number; opensSuppressed: number; logBytes: number } {
    return this.tracer.losses();
  }

  counters(pid: number): ProcessCounters | undefined {
    if (this.stopped) return undefined;
    const c = this.tracer.counters(pid);
    return c && { ioWaitNs: c.ioWaitNs, netSendBytes: c.netSendBytes, netRecvBytes: c.netRecvBytes };
  }
}

/** Loads and attaches the programs; throws an Error saying exactly why BPF cannot be used. */
export async function createBpfSource(options: BpfSourceOptions): Promise<BpfSource> {
  const addon: TracerAddon = loadTracerAddon(options.addonPath);
  const problem = bpfPrerequisiteProblem();
  if (problem) throw new Error(problem);
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
  };
  let tracer: Tracer;
  try {
    tracer = new addon.Tracer(tracerOptions);
  } catch (err) {
    throw new Error(explainLoadError(err as Error));
  }
  for (const p of tracer.unavailable) {
    log.info(
      { program: p.program, step: p.step, errno: p.errno },
      `BPF ${p.program} unavailable: ${p.detail || p.message}`,
    );
  }
  // Processes of the subtree already running: the kernel only sees forks from now on.
  if (root) for (const pid of runningDescendants(root)) tracer.track(pid);
  return new BpfSource(tracer, {
    bootPrefix: bootIdPrefix(options.bootId),
    bootToWallNs: Number(addon.bootToRealtimeNs()),
    pageSize: addon.pageSize,
  });
}
