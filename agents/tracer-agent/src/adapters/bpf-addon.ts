// The tracer_bpf native addon (agents/tracer-agent/addon/): its location, its loading, and
// the shapes of what it returns (bpf/events.h records decoded into plain objects).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const ADDON_PATH = fileURLToPath(new URL('../../addon/build/Release/tracer_bpf.node', import.meta.url));

interface RawHead {
  pid: number;
  /** CLOCK_BOOTTIME ns (bpf_ktime_get_boot_ns). */
  tsNs: number;
  /** task->group_leader->start_boottime: with pid, the process identity. */
  startNs: bigint;
}

export type RawRecord =
  | (RawHead & { kind: 'fork'; ppid: number; parentStartNs: bigint })
  | (RawHead & {
      kind: 'exec';
      ppid: number;
      parentStartNs: bigint;
      uid: number;
      cgroupId: string;
      argv: string[];
      argc: number;
      argvTruncated: boolean;
      exe: string;
      exeTruncated: boolean;
      cwd: string;
      cwdTruncated: boolean;
      comm: string;
    })
  | (RawHead & {
      kind: 'exit';
      /** The wait status the parent gets: code << 8 | 0x80 core | signal. */
      exitStatus: number;
      threads: number;
      exitNs: number;
      sumExecNs: bigint;
      utimeNs: bigint;
      stimeNs: bigint;
      prevUtimeNs: bigint;
      prevStimeNs: bigint;
      maxrssPages: number;
      /** The post-exec image alone; 0 when its exit was not seen. */
      execMaxrssPages: number;
      rchar: number;
      wchar: number;
      /** read- and write-family calls (ioac syscr/syscw): the file class's count. */
      syscr: number;
      syscw: number;
      readBytes: number;
      writeBytes: number;
      cancelledWriteBytes: number;
      nvcsw: number;
      nivcsw: number;
      ioWaitNs: number;
      netSendBytes: number;
      netRecvBytes: number;
      opensSuppressed: number;
      stdoutDroppedBytes: number;
      stderrDroppedBytes: number;
      /** stdout/stderr bytes the capture policy left out (stdout into a file). */
      logSkippedBytes: number;
      /** Distinct failed syscalls over the per-process rate, not reported. */
      errorsSuppressed: number;
      syscalls: SyscallClasses;
      comm: string;
    })
  | (RawHead & {
      kind: 'oom';
      triggerPid: number;
      constraint: 'memcg' | 'global' | 'cpuset' | 'mempolicy';
      cgroupId: string;
      limitPages: number;
      usagePages: number;
      victimRssPages: number;
      comm: string;
    })
  | (RawHead & { kind: 'open'; ret: number; flags: number; path: string; pathTruncated: boolean })
  | (RawHead & {
      kind: 'log';
      /** 1 stdout, 2 stderr: by the files the process exec'd with, not the fd number. */
      stream: number;
      data: Buffer;
      droppedBytes: number;
      target: 'pipe' | 'tty' | 'device' | 'file' | 'socket' | 'other';
    })
  | (RawHead & {
      /** A failure new to this process: the call, the errno, its object. */
      kind: 'syscallError';
      /** u64 hash (decimal) naming this failure in later counts. */
      key: string;
      nr: number;
      syscall: string;
      err: number;
      object: 'none' | 'path' | 'file' | 'addr' | 'peer';
      /** dirfd (-100: AT_FDCWD) or fd argument; -1 when the call has none. */
      fd: number;
      openFlags: number;
      pathTruncated: boolean;
      baseTruncated: boolean;
      /** object path: as given; object file: the fd's file. */
      path?: string;
      /** The directory a relative path is resolved from (cwd or dirfd). */
      base?: string;
      /** object file: the mount point holding it. */
      mount?: string;
      /** object addr/peer: "1.2.3.4:80", "[::1]:80", "unix:/path". */
      addr?: string;
    })
  | (RawHead & {
      /** How often the failure `key` has happened in this process so far. */
      kind: 'syscallErrorCount';
      key: string;
      count: number;
      firstNs: number;
      lastNs: number;
      /** No more counts will come for this series (process exit, table eviction). */
      final: boolean;
    })
  | (RawHead & {
      /** A cgroup of the hierarchy exec cgroupIds come from, created or removed. */
      kind: 'cgroup';
      cgroupId: string;
      op: 'mkdir' | 'rmdir';
      level: number;
      /** Relative to the hierarchy root: "/system.slice/docker-<id>.scope". */
      path: string;
    });

/** Sleeps inside syscalls, by class: how many and how long in total (over all threads);
 * classes with none are absent. */
export type SyscallClasses = Partial<
  Record<'other' | 'file' | 'net' | 'memory' | 'process' | 'sync' | 'wait', { count: number; ns: number }>
>;

/** Bits of TracerOptions.captureTargets: 1 << bpf/events.h tr_log_target. */
export const LOG_TARGET_BITS = { pipe: 1 << 1, tty: 1 << 2, device: 1 << 3, file: 1 << 8, socket: 1 << 12 } as const;

export interface TracerOptions {
  /** Capture only descendants of this process; 0 or absent: the whole host. */
  rootTgid?: number;
  /** Never captured (defaults to this process). */
  selfTgid?: number;
  /** cgroupId from the v1 memory hierarchy (hosts whose memory controller is on v1). */
  cgroupV1Memory?: boolean;
  ringBytes?: number;
  /** Kernel wakes the reader once this much waits (default ringBytes / 8; 0: every record). */
  wakeupBytes?: number;
  /** Drains on a timer too, for the records below wakeupBytes (default 50 ms). */
  drainIntervalMs?: number;
  openRatePerSec?: number;
  openBurst?: number;
  logBytesPerSec?: number;
  /** [stdout, stderr]: OR of LOG_TARGET_BITS, what each stream is captured into. */
  captureTargets?: [number, number];
  /** Sleeps inside syscalls by class: count and time (default true). */
  timeSyscalls?: boolean;
  /** Also report failures of stat, access, readlink and getdents (existence checks, hot in
   * metadata-heavy tools; default false). */
  errorProbes?: boolean;
  /** New failed-syscall records per process per second, and back to back. */
  errorRatePerSec?: number;
  errorBurst?: number;
  /** A repeating failure's running count is sent at most this often (default 1000 ms). */
  errorReportMs?: number;
  /** Optional objects not to load: oom, iowait, net, files, output, syscalls, cgroups. */
  disabled?: string[];
  log?: (level: 'warn' | 'info' | 'debug', message: string) => void;
}

export interface LoadProblem {
  program: string;
  step: string;
  errno: number;
  message: string;
  detail: string;
}

export interface Tracer {
  readonly loaded: string[];
  readonly unavailable: LoadProblem[];
  start(onBatch: (batch: RawRecord[], malformed: number) => void): void;
  /** Delivers everything the ring buffer holds now; returns the record count. */
  drain(): number;
  /** Drains, then detaches and frees everything. */
  stop(): void;
  losses(): KernelLosses;
  counters(pid: number): RawCounters | undefined;
  track(pid: number): boolean;
  /** Fds of the links slow to release (perf-event tracepoints), valid until stop. */
  slowLinkFds(): number[];
}

export interface KernelLosses {
  ringbuf: number;
  trackedFull: number;
  opensSuppressed: number;
  logBytes: number;
  /** Distinct failed syscalls over the per-process rate (or with no table room). */
  syscallErrors: number;
  /** Not a loss: output bytes the capture policy leaves out. */
  logSkippedBytes: number;
}

export interface RawCounters {
  ioWaitNs: number;
  netSendBytes: number;
  netRecvBytes: number;
  opensSuppressed: number;
  logSkippedBytes: number;
  errorsSuppressed: number;
  syscalls: SyscallClasses;
}

export interface TracerAddon {
  Tracer: new (options: TracerOptions) => Tracer;
  /** This architecture's name for a syscall number. */
  syscallName(nr: number): string;
  bootToRealtimeNs(): bigint;
  bootTimeNs(): bigint;
  pageSize: number;
}

/** Loads the addon, or throws an Error saying why it cannot be used. */
export function loadTracerAddon(path: string = ADDON_PATH): TracerAddon {
  if (!existsSync(path)) {
    throw new Error(
      `the eBPF addon is not built (${path} is missing): run \`pnpm run build:native\` in agents/tracer-agent ` +
        '(needs clang, llvm, bpftool, libbpf-dev, libelf-dev, zlib1g-dev, make, g++)',
    );
  }
  try {
    return createRequire(import.meta.url)(path) as TracerAddon;
  } catch (err) {
    throw new Error(`the eBPF addon does not load (${(err as Error).message})`);
  }
}
