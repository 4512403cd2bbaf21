// The /proc fallback source (mode 'proc'), for hosts where BPF cannot load. It polls /proc
// for processes in the subtree (or the whole host), and reports the same event types as
// the BPF source with `sampled: true`:
// - process.fork and process.exec when a process is first seen (ts = its start time), and
//   process.exec again when its exe changes (a later exec);
// - process.exit when it is gone, with the exit status from /proc/<pid>/stat field 52 if it
//   was caught as a zombie, else `exitCodeUnknown: true`; CPU, peak RSS and I/O as of the
//   last poll;
// - oom.kill from the kernel log, naming the victim.
// What it cannot see: processes that start and are reaped between two polls, output
// (log.chunk), file opens, network bytes.
import { allowlistEnv } from '../core/env-allowlist.ts';
import type { SourceOptions, SourceRecord, SourceStats, TelemetrySource } from '../core/source.ts';
import { bootIdPrefix, makeUpid, NS_PER_TICK } from '../core/upid.ts';
import { bootWallNs, nowNs } from './clock.ts';
import { type KmsgOom, type KmsgReader, openKmsg } from './kmsg.ts';
import {
  decodeWaitStatus,
  defaultProcPaths,
  delayAccountingEnabled,
  listPids,
  type PidIo,
  type PidStat,
  type ProcPaths,
  readChildren,
  readCmdline,
  readCwd,
  readEnviron,
  readExe,
  readIo,
  readStat,
  readStatus,
} from './procfs.ts';

export const DEFAULT_POLL_INTERVAL_MS = 20;
/**
 * Polls may use at most this share of one CPU: costlier polls (big subtrees) stretch the
 * interval, up to MAX_POLL_INTERVAL_MS. Cost is the poll's own CPU time, smoothed, so a
 * poll that waited for a busy CPU does not count as expensive.
 */
const MAX_POLL_DUTY = 0.1;
const MAX_POLL_INTERVAL_MS = 250;
const MAX_REMEMBERED_EXITS = 4096;

export interface ProcSourceOptions extends SourceOptions {
  pollIntervalMs?: number;
  paths?: ProcPaths;
  /** Kernel log for OOM kills; null turns it off. */
  kmsgPath?: string | null;
}

interface Tracked {
  pid: number;
  upid: string;
  ppid: number;
  parentUpid?: string;
  startTicks: number;
  startTs: number;
  comm: string;
  exe?: string;
  argv?: string[];
  /** False while the process is a fork that has not exec'd anything of its own. */
  execed: boolean;
  stat: PidStat;
  peakRssBytes: number;
  io?: PidIo;
  voluntaryCtxSwitches?: number;
  involuntaryCtxSwitches?: number;
  oomKilled: boolean;
}

export class ProcSource implements TelemetrySource {
  readonly mode = 'proc' as const;
  /** Why OOM kills cannot be named, when /dev/kmsg is unreadable. */
  kmsgProblem?: string;
  private readonly paths: ProcPaths;
  private readonly bootPrefix: string;
  private readonly interval: number;
  private readonly tracked = new Map<number, Tracked>();
  /** pid -> start ticks of processes already reported exited (zombies not yet reaped). */
  private readonly exited = new Map<number, number>();
  private readonly delayAcct: boolean;
  private bootNs = 0;
  private kmsg?: KmsgReader;
  private timer?: NodeJS.Timeout;
  private onBatch?: (batch: SourceRecord[]) => void;
  private stopped = false;
  private childrenSupported = true;
  /** Smoothed CPU ms per poll. */
  private pollCostMs = 0;

  private readonly options: ProcSourceOptions;

  constructor(options: ProcSourceOptions) {
    this.options = options;
    this.paths = options.paths ?? defaultProcPaths;
    this.bootPrefix = bootIdPrefix(options.bootId);
    this.interval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.delayAcct = delayAccountingEnabled(this.paths);
  }

  async start(onBatch: (batch: SourceRecord[]) => void): Promise<void> {
    this.onBatch = onBatch;
    this.bootNs = bootWallNs(this.paths);
    const root = this.options.descendantsOf;
    if (root !== undefined && readChildren(root, this.paths) === undefined) {
      if (readStat(root, this.paths) === undefined) throw new Error(`process ${root} does not exist`);
      // No CONFIG_PROC_CHILDREN: find children by scanning every pid's parent.
      this.childrenSupported = false;
    }
    if (this.options.kmsgPath !== null) {
      const kmsg = openKmsg(this.options.kmsgPath ?? '/dev/kmsg');
      if (typeof kmsg === 'string') this.kmsgProblem = kmsg;
      else this.kmsg = kmsg;
    }
    this.poll();
    this.schedule(this.interval);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.poll();
    this.kmsg?.close();
  }

  stats(): SourceStats {
    return { droppedKernel: 0, droppedUser: 0 };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const before = process.cpuUsage();
      this.poll();
      const used = process.cpuUsage(before);
      this.pollCostMs = 0.8 * this.pollCostMs + 0.2 * ((used.user + used.system) / 1000);
      this.schedule(Math.min(MAX_POLL_INTERVAL_MS, Math.max(this.interval, this.pollCostMs / MAX_POLL_DUTY)));
    }, delayMs);
    this.timer.unref();
  }

  /** One pass over /proc; public for tests that step the source by hand. */
  poll(): void {
    const now = nowNs();
    const out: SourceRecord[] = [];
    const ooms = this.kmsg?.readOoms() ?? [];
    this.discover(now, out);
    for (const oom of ooms) this.reportOom(oom, now, out);
    this.refresh(now, out);
    if (out.length > 0) this.onBatch?.(out);
  }

  private discover(now: number, out: SourceRecord[]): void {
    const root = this.options.descendantsOf;
    const candidates: Array<{ pid: number; ppid?: number }> = [];
    if (root === undefined || !this.childrenSupported) {
      const known = new Set([...this.tracked.keys()]);
      const fresh: Array<{ pid: number; stat: PidStat }> = [];
      for (const pid of listPids(this.paths)) {
        if (known.has(pid) || pid === root) continue;
        const stat = readStat(pid, this.paths);
        if (stat) fresh.push({ pid, stat });
      }
      if (root === undefined) {
        for (const f of fresh) candidates.push({ pid: f.pid, ppid: f.stat.ppid });
      } else {
        // Keep the new pids whose parent chain reaches the root or a tracked process.
        const byPid = new Map(fresh.map((f) => [f.pid, f.stat.ppid]));
        const inTree = (pid: number, depth = 0): boolean => {
          const ppid = byPid.get(pid);
          if (ppid === undefined || depth > 64) return false;
          return ppid === root || this.tracked.has(ppid) || inTree(ppid, depth + 1);
        };
        const members = fresh.filter((f) => inTree(f.pid)).sort((a, b) => a.stat.startTicks - b.stat.startTicks);
        for (const f of members) candidates.push({ pid: f.pid, ppid: f.stat.ppid });
      }
    } else {
      // Walk down from the root and every tracked process; new children are walked too.
      const queue = [root, ...this.tracked.keys()];
      const seen = new Set<number>();
      while (queue.length > 0) {
        const parent = queue.shift()!;
        if (seen.has(parent)) continue;
        seen.add(parent);
        for (const child of readChildren(parent, this.paths) ?? []) {
          if (this.tracked.has(child) || seen.has(child)) continue;
          candidates.push({ pid: child, ppid: parent });
          queue.push(child);
        }
      }
    }
    for (const c of candidates) this.track(c.pid, c.ppid, now, out);
  }

  private track(pid: number, knownPpid: number | undefined, now: number, out: SourceRecord[]): void {
    if (this.tracked.has(pid)) return;
    const stat = readStat(pid, this.paths);
    if (!stat) return; // gone between listing and reading: missed
    if (this.exited.get(pid) === stat.startTicks) return; // a zombie we already reported
    this.exited.delete(pid);
    const ppid = knownPpid ?? stat.ppid;
    const parent = this.tracked.get(ppid);
    const startNs = stat.startTicks * NS_PER_TICK;
    const t: Tracked = {
      pid,
      upid: makeUpid(this.bootPrefix, pid, startNs),
      ppid,
      startTicks: stat.startTicks,
      startTs: Math.min(now, this.bootNs + startNs),
      comm: stat.comm,
      execed: false,
      stat,
      peakRssBytes: 0,
      oomKilled: false,
    };
    if (parent) t.parentUpid = parent.upid;
    this.tracked.set(pid, t);
    out.push({
      type: 'process.fork',
      ts: t.startTs,
      pid,
      upid: t.upid,
      ppid,
      ...(t.parentUpid !== undefined ? { parentUpid: t.parentUpid } : {}),
      sampled: true,
    });
    if (stat.state === 'Z') {
      // Already exited: its argv is gone, its name and status are not.
      t.argv = [stat.comm];
      t.exe = '';
      out.push(this.execRecord(t, t.startTs, { truncated: true }));
      this.reportExit(t, now, stat, out);
      return;
    }
    this.readCounters(t, stat);
    const { exe, argv = [] } = this.readProgram(pid);
    t.exe = exe;
    t.argv = argv.length > 0 ? argv : [stat.comm];
    // A fork still running its parent's program is not an exec.
    if (!parent || parent.exe !== exe || !sameArgv(parent.argv, t.argv)) {
      t.execed = true;
      out.push(this.execRecord(t, t.startTs, { truncated: argv.length === 0 }));
    }
  }

  private execRecord(t: Tracked, ts: number, opts: { truncated: boolean }): SourceRecord {
    const status = readStatus(t.pid, this.paths);
    const environ = readEnviron(t.pid, this.paths);
    const env = environ ? allowlistEnv(environ) : undefined;
    return {
      type: 'process.exec',
      ts,
      pid: t.pid,
      upid: t.upid,
      ppid: t.ppid,
      ...(t.parentUpid !== undefined ? { parentUpid: t.parentUpid } : {}),
      sampled: true,
      uid: status?.uid ?? 0,
      exe: t.exe ?? '',
      argv: t.argv ?? [],
      argvTruncated: opts.truncated,
      cwd: readCwd(t.pid, this.paths) ?? '',
      comm: t.stat.comm.slice(0, 16),
      ...(env ? { env } : {}),
    };
  }

  private refresh(now: number, out: SourceRecord[]): void {
    for (const t of [...this.tracked.values()]) {
      const stat = readStat(t.pid, this.paths);
      if (!stat || stat.startTicks !== t.startTicks) {
        this.reportExit(t, now, undefined, out);
        continue;
      }
      if (stat.state === 'Z') {
        this.reportExit(t, now, stat, out);
        continue;
      }
      const exeChanged = stat.comm !== t.stat.comm || (t.execed && readExe(t.pid, this.paths) !== t.exe);
      if (exeChanged || !t.execed) {
        const { exe, argv } = this.readProgram(t.pid);
        if (argv && argv.length > 0 && (exeChanged || exe !== t.exe || !sameArgv(argv, t.argv))) {
          t.exe = exe;
          t.argv = argv;
          t.comm = stat.comm;
          t.execed = true;
          t.stat = stat;
          out.push(this.execRecord(t, now, { truncated: false }));
        }
      }
      this.readCounters(t, stat);
    }
  }

  /**
   * exe and argv of one program: a process caught exec'ing between the two reads would pair its
   * parent's argv with its new exe (a `sleep` named `bash -c ...`), so exe is read again after
   * argv, and argv again when it moved.
   */
  private readProgram(pid: number): { exe: string; argv: string[] | undefined } {
    const exe = readExe(pid, this.paths) ?? '';
    const argv = readCmdline(pid, this.paths);
    const exeAfter = readExe(pid, this.paths) ?? '';
    return exeAfter === exe ? { exe, argv } : { exe: exeAfter, argv: readCmdline(pid, this.paths) };
  }

  private readCounters(t: Tracked, stat: PidStat): void {
    t.stat = stat;
    const status = readStatus(t.pid, this.paths);
    if (status?.peakRssBytes !== undefined) t.peakRssBytes = Math.max(t.peakRssBytes, status.peakRssBytes);
    if (status?.voluntaryCtxSwitches !== undefined) t.voluntaryCtxSwitches = status.voluntaryCtxSwitches;
    if (status?.involuntaryCtxSwitches !== undefined) t.involuntaryCtxSwitches = status.involuntaryCtxSwitches;
    const io = readIo(t.pid, this.paths);
    if (io) t.io = io;
  }

  private reportExit(t: Tracked, now: number, zombie: PidStat | undefined, out: SourceRecord[]): void {
    this.tracked.delete(t.pid);
    if (zombie) {
      this.exited.set(t.pid, t.startTicks);
      if (this.exited.size > MAX_REMEMBERED_EXITS) this.exited.delete(this.exited.keys().next().value!);
      // A zombie's counters are final; its io file may still be readable.
      t.stat = zombie;
      const io = readIo(t.pid, this.paths);
      if (io) t.io = io;
    }
    const decoded = zombie ? decodeWaitStatus(zombie.exitStatus) : undefined;
    const status = decoded ?? (t.oomKilled ? { exitCode: 0, signal: 9, coreDumped: false } : undefined);
    out.push({
      type: 'process.exit',
      ts: now,
      pid: t.pid,
      upid: t.upid,
      sampled: true,
      exitCode: status?.exitCode ?? 0,
      ...(status ? {} : { exitCodeUnknown: true }),
      signal: status?.signal ?? null,
      coreDumped: status?.coreDumped ?? false,
      durationNs: Math.max(0, now - t.startTs),
      cpuUserNs: t.stat.utimeTicks * NS_PER_TICK,
      cpuSysNs: t.stat.stimeTicks * NS_PER_TICK,
      peakRssBytes: t.peakRssBytes,
      readBytes: t.io?.readBytes ?? 0,
      writeBytes: t.io?.writeBytes ?? 0,
      ...(t.io ? { storageReadBytes: t.io.storageReadBytes, storageWriteBytes: t.io.storageWriteBytes } : {}),
      ...(this.delayAcct ? { ioWaitNs: t.stat.blkioTicks * NS_PER_TICK } : {}),
      ...(t.voluntaryCtxSwitches !== undefined ? { voluntaryCtxSwitches: t.voluntaryCtxSwitches } : {}),
      ...(t.involuntaryCtxSwitches !== undefined ? { involuntaryCtxSwitches: t.involuntaryCtxSwitches } : {}),
    });
  }

  private reportOom(oom: KmsgOom, now: number, out: SourceRecord[]): void {
    const t = this.tracked.get(oom.victimPid);
    // The kernel log is host-wide: keep only our processes (the comm guards against a pid
    // namespace where the log's pids mean something else).
    if (!t?.comm.startsWith(oom.victimComm.slice(0, 15))) return;
    t.oomKilled = true;
    out.push({
      type: 'oom.kill',
      ts: now,
      victimPid: oom.victimPid,
      victimUpid: t.upid,
      victimComm: oom.victimComm,
      constraint: oom.constraint,
      ...(oom.victimRssBytes !== undefined ? { victimRssBytes: oom.victimRssBytes } : {}),
      ...(oom.memoryLimitBytes !== undefined ? { memoryLimitBytes: oom.memoryLimitBytes } : {}),
      ...(oom.memoryUsageBytes !== undefined ? { memoryUsageBytes: oom.memoryUsageBytes } : {}),
    });
  }
}

function sameArgv(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => x === b[i]);
}

export async function createProcSource(options: ProcSourceOptions): Promise<ProcSource> {
  return new ProcSource(options);
}
