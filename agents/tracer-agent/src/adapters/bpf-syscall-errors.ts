// Failed syscalls, from the kernel's records (bpf/syscalls.bpf.c) to syscall.error events.
// The kernel sends each distinct failure of a process once in full and then only counts
// it; this keeps those series per process and, when the process exits, emits the ones that
// can explain something, each with its count and first/last time. Processes alive for long
// get their significant series flushed periodically (count = occurrences since the last
// emission). Pure: time conversion and mount lookup are handed in.
import { constants as osConstants } from 'node:os';
import { posix } from 'node:path';
import type { SourceRecord } from '../core/source.ts';
import type { RawRecord } from './bpf-addon.ts';

type RawError = Extract<RawRecord, { kind: 'syscallError' }>;
type RawCount = Extract<RawRecord, { kind: 'syscallErrorCount' }>;
export type SyscallErrorRecord = Extract<SourceRecord, { type: 'syscall.error' }>;

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** The errno's symbolic name (ENOENT), or E<number> for one Node does not name. */
export function errnoName(err: number): string {
  return ERRNO_NAMES.get(err) ?? `E${err}`;
}

/**
 * Failures that say something went wrong even in a process that then succeeded: no space,
 * no permission on a read-only filesystem, no memory, no descriptors, a network that does not
 * answer. ENOENT and the like only matter when the process fails.
 */
export const SIGNIFICANT_ERRNOS = new Set([
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'EIO',
  'EFBIG',
  'ENOMEM',
  'EMFILE',
  'ENFILE',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'ECONNABORTED',
]);

/** Failures of a failed process that are kept whatever came after (permissions, limits). */
const DECISIVE_ERRNOS = new Set([...SIGNIFICANT_ERRNOS, 'EACCES', 'EPERM', 'ETXTBSY', 'ENOEXEC', 'E2BIG', 'EAGAIN']);

/** Probing runtimes do before the program runs (loader, locale, Python's getpath): never the
 * explanation. */
const PROBE_PATHS = [
  /^\/etc\/ld\.so\.preload$/,
  /^\/usr\/lib\/locale\//,
  /^\/usr\/share\/locale\//,
  /\/gconv\//,
  /^\/usr\/share\/zoneinfo\//,
  /\/pyvenv\.cfg$/,
  /\/python[0-9.]*\._pth$/,
  /\/pybuilddir\.txt$/,
];

/** Calls that fail by design in common use (readlink on a non-link, rm -f, mkdir -p). */
function expectedFailure(syscall: string, errno: string): boolean {
  if (errno === 'EINVAL' && syscall.startsWith('readlink')) return true;
  if (errno === 'ENOENT' && syscall.startsWith('unlink')) return true;
  if (errno === 'EEXIST' && syscall.startsWith('mkdir')) return true;
  return false;
}

export interface FailureSeries {
  upid: string;
  pid: number;
  key: string;
  syscall: string;
  errno: string;
  path?: string;
  addr?: string;
  mount?: string;
  flags?: number;
  /** Occurrences in the kernel's current series, and what earlier series (evicted from its
   * per-process table, then seen again) added. */
  count: number;
  carried: number;
  /** Occurrences already emitted by periodic flushes. */
  emitted: number;
  firstNs: number;
  lastNs: number;
  /** Boot-clock ns of the first occurrence not yet emitted. */
  pendingFirstNs: number;
  order: number;
}

export interface SyscallErrorOptions {
  /** CLOCK_BOOTTIME ns to wall-clock ns. */
  toWallNs: (bootNs: number) => number;
  /** The mount point holding `path` as the process `pid` sees it, when known. */
  mountOf?: (path: string, pid: number) => string | undefined;
  /** Series kept per process (the oldest insignificant ones give way). Default 64. */
  maxSeriesPerProcess?: number;
  /** Of a failed process, the latest this many failures are emitted besides the decisive ones. */
  lastFailures?: number;
  /** At most this many syscall.error events per process. */
  maxEventsPerProcess?: number;
}

export interface SyscallErrorStats {
  /** Series turned into syscall.error events. */
  emitted: number;
  /** Series the policy left out (noise, expected failures, successful processes' ENOENT). */
  omitted: number;
  /** Series forgotten because a process had more than maxSeriesPerProcess. */
  evicted: number;
}

/** Which of a process's failure series become events, given how the process ended. */
export function selectFailures(
  series: readonly FailureSeries[],
  outcome: { failed: boolean },
  options: { lastFailures?: number; maxEvents?: number } = {},
): FailureSeries[] {
  const last = options.lastFailures ?? 8;
  const max = options.maxEvents ?? 32;
  const candidates = series.filter(
    (s) => !(s.path !== undefined && PROBE_PATHS.some((p) => p.test(s.path!))) && !expectedFailure(s.syscall, s.errno),
  );
  const keep = new Set<FailureSeries>();
  const byLast = [...candidates].sort((a, b) => b.lastNs - a.lastNs || b.order - a.order);
  for (const s of byLast)
    if (SIGNIFICANT_ERRNOS.has(s.errno) || (outcome.failed && DECISIVE_ERRNOS.has(s.errno))) keep.add(s);
  if (outcome.failed) for (const s of byLast.slice(0, last)) keep.add(s);
  return byLast
    .filter((s) => keep.has(s))
    .slice(0, max)
    .sort((a, b) => a.firstNs - b.firstNs || a.order - b.order);
}

export class SyscallErrorAggregator {
  private readonly options: SyscallErrorOptions;
  private readonly byProcess = new Map<string, Map<string, FailureSeries>>();
  private order = 0;
  readonly stats: SyscallErrorStats = { emitted: 0, omitted: 0, evicted: 0 };

  constructor(options: SyscallErrorOptions) {
    this.options = options;
  }

  /** A failure the kernel saw for the first time in this process (or again after eviction). */
  onError(raw: RawError, upid: string): void {
    const errno = errnoName(raw.err);
    let path = raw.path;
    if (path !== undefined && raw.object === 'path' && !path.startsWith('/') && raw.base !== undefined) {
      path = posix.resolve(raw.base, path);
    }
    const series = this.seriesOf(upid);
    const prior = series.get(raw.key);
    if (prior) {
      // The kernel's table let it go and met it again: a new kernel series, same failure.
      prior.carried += prior.count;
      prior.count = 1;
      prior.lastNs = raw.tsNs;
      if (prior.pendingFirstNs === 0) prior.pendingFirstNs = raw.tsNs;
      return;
    }
    const s: FailureSeries = {
      upid,
      pid: raw.pid,
      key: raw.key,
      syscall: raw.syscall,
      errno,
      count: 1,
      carried: 0,
      emitted: 0,
      firstNs: raw.tsNs,
      lastNs: raw.tsNs,
      pendingFirstNs: raw.tsNs,
      order: this.order++,
    };
    if (path !== undefined && path !== '') s.path = path;
    if (raw.addr !== undefined && raw.addr !== '') s.addr = raw.addr;
    if (raw.syscall.startsWith('open') || raw.syscall === 'creat') s.flags = raw.openFlags;
    const mount =
      raw.mount ?? (s.path && MOUNT_ERRNOS.has(errno) ? this.options.mountOf?.(s.path, raw.pid) : undefined);
    if (mount !== undefined) s.mount = mount;
    series.set(raw.key, s);
    this.bound(series);
  }

  /** The kernel's running count of a series. */
  onCount(raw: RawCount, upid: string): void {
    const s = this.byProcess.get(upid)?.get(raw.key);
    if (!s) return;
    s.count = Math.max(s.count, raw.count);
    s.lastNs = Math.max(s.lastNs, raw.lastNs);
  }

  /** The process ended: its selected series as events (to precede its process.exit). */
  onExit(upid: string, outcome: { failed: boolean }): SyscallErrorRecord[] {
    const series = this.byProcess.get(upid);
    if (!series) return [];
    this.byProcess.delete(upid);
    return this.emit([...series.values()], outcome, true);
  }

  /**
   * Significant series of processes still running that grew since they were last emitted
   * (all of them, policy permitting, when `final`: the source is stopping).
   */
  flush(final = false): SyscallErrorRecord[] {
    const out: SyscallErrorRecord[] = [];
    for (const [upid, series] of this.byProcess) {
      const list = [...series.values()];
      if (final) {
        this.byProcess.delete(upid);
        out.push(...this.emit(list, { failed: false }, true));
      } else {
        out.push(
          ...this.emit(
            list.filter((s) => SIGNIFICANT_ERRNOS.has(s.errno)),
            { failed: false },
            false,
          ),
        );
      }
    }
    return out;
  }

  /** Processes with series held. */
  get processes(): number {
    return this.byProcess.size;
  }

  private emit(list: FailureSeries[], outcome: { failed: boolean }, last: boolean): SyscallErrorRecord[] {
    const chosen = selectFailures(list, outcome, {
      ...(this.options.lastFailures !== undefined ? { lastFailures: this.options.lastFailures } : {}),
      ...(this.options.maxEventsPerProcess !== undefined ? { maxEvents: this.options.maxEventsPerProcess } : {}),
    });
    const out: SyscallErrorRecord[] = [];
    for (const s of chosen) {
      const total = s.carried + s.count;
      const count = total - s.emitted;
      if (count <= 0) continue;
      const firstNs = s.emitted === 0 ? s.firstNs : s.pendingFirstNs || s.lastNs;
      out.push(this.toRecord(s, count, firstNs));
      s.emitted = total;
      s.pendingFirstNs = 0;
    }
    if (last) {
      this.stats.omitted += list.filter((s) => s.emitted === 0).length;
    }
    this.stats.emitted += out.length;
    return out;
  }

  private toRecord(s: FailureSeries, count: number, firstNs: number): SyscallErrorRecord {
    const wall = this.options.toWallNs;
    return {
      type: 'syscall.error',
      ts: wall(s.lastNs),
      pid: s.pid,
      upid: s.upid,
      syscall: s.syscall,
      errno: s.errno,
      count,
      ...(s.path !== undefined ? { path: s.path } : {}),
      ...(s.addr !== undefined ? { addr: s.addr } : {}),
      ...(s.mount !== undefined ? { mount: s.mount } : {}),
      ...(s.flags !== undefined ? { flags: s.flags } : {}),
      firstTs: wall(firstNs),
      lastTs: wall(s.lastNs),
    };
  }

  private seriesOf(upid: string): Map<string, FailureSeries> {
    let m = this.byProcess.get(upid);
    if (!m) {
      m = new Map();
      this.byProcess.set(upid, m);
    }
    return m;
  }

  /** Over the bound: the oldest insignificant series goes (else the oldest). */
  private bound(series: Map<string, FailureSeries>): void {
    const max = this.options.maxSeriesPerProcess ?? 64;
    while (series.size > max) {
      let victim: FailureSeries | undefined;
      for (const s of series.values()) {
        if (SIGNIFICANT_ERRNOS.has(s.errno)) continue;
        if (!victim || s.lastNs < victim.lastNs) victim = s;
      }
      victim ??= series.values().next().value!;
      series.delete(victim.key);
      this.stats.evicted++;
    }
  }
}

/** Failures whose filesystem is the point (full, over quota, read-only). */
const MOUNT_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EFBIG', 'EIO']);

/** Mount points from a mountinfo text (field 5), unescaped (\040 is a space). */
export function parseMountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    out.push(f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
  }
  return out;
}

/** The mount point holding `path`: the longest mount point that is a prefix of it. */
export function mountOfPath(path: string, mountPoints: readonly string[]): string | undefined {
  const p = posix.normalize(path);
  let best: string | undefined;
  for (const m of mountPoints) {
    const inside = m === '/' || p === m || p.startsWith(`${m}/`);
    if (inside && (best === undefined || m.length > best.length)) best = m;
  }
  return best;
}
