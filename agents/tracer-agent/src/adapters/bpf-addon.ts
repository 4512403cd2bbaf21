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
      rchar: number;
      wchar: number;
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
      target: 'pipe' | 'tty' | 'file' | 'socket' | 'other';
    });

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
  /** Optional objects not to load: oom, iowait, net, files, output. */
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
  losses(): { ringbuf: number; trackedFull: number; opensSuppressed: number; logBytes: number };
  counters(
    pid: number,
  ): { ioWaitNs: number; netSendBytes: number; netRecvBytes: number; opensSuppressed: number } | undefined;
  track(pid: number): boolean;
}

export interface TracerAddon {
  Tracer: new (options: TracerOptions) => Tracer;
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
