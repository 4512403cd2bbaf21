// Periodic per-process samples (process.sample) for the live processes of a trace, from
// /proc, merged with the kernel-side counters a source has and /proc lacks (I/O wait, network
// bytes, syscall time by class, the cgroup's memory limit/usage/pressure). One timer; a sample
// per live process per interval.
import type { PayloadOf } from '@tracer/events';
import type { ProcessCounters, SourceRecord, TelemetrySource } from '../core/source.ts';
import { NS_PER_TICK, upidMatchesStartTicks } from '../core/upid.ts';
import { nowNs } from './clock.ts';
import { defaultProcPaths, delayAccountingEnabled, type ProcPaths, readIo, readStat, readStatus } from './procfs.ts';

export const DEFAULT_SAMPLE_INTERVAL_MS = 1000;

/** What a source may give per pid: the BPF source adds syscall classes and the cgroup's resources. */
export type SamplerCounters = ProcessCounters & {
  syscalls?: PayloadOf<'process.sample'>['syscalls'];
  cgroup?: PayloadOf<'process.sample'>['cgroup'];
};

export interface ProcessSamplerOptions {
  intervalMs?: number;
  /** The processes to sample now: pid -> upid of live processes. */
  live: () => Iterable<[number, string]>;
  source?: Pick<TelemetrySource, 'counters'>;
  paths?: ProcPaths;
  /** Extra records to add to each tick (host samples). */
  extra?: () => SourceRecord[];
  onBatch: (batch: SourceRecord[]) => void;
}

/** Samples each live process once; pids reused since their upid was issued are skipped. */
export function sampleProcesses(
  live: Iterable<[number, string]>,
  options: { paths?: ProcPaths; counters?: (pid: number) => SamplerCounters | undefined; delayAcct?: boolean } = {},
): SourceRecord[] {
  const paths = options.paths ?? defaultProcPaths;
  const delayAcct = options.delayAcct ?? delayAccountingEnabled(paths);
  const ts = nowNs();
  const out: SourceRecord[] = [];
  for (const [pid, upid] of live) {
    const stat = readStat(pid, paths);
    if (!stat || stat.state === 'Z' || !upidMatchesStartTicks(upid, stat.startTicks)) continue;
    const status = readStatus(pid, paths);
    const io = readIo(pid, paths);
    const counters = options.counters?.(pid);
    const ioWaitNs = counters?.ioWaitNs ?? (delayAcct ? stat.blkioTicks * NS_PER_TICK : undefined);
    out.push({
      type: 'process.sample',
      ts,
      pid,
      upid,
      cpuNs: (stat.utimeTicks + stat.stimeTicks) * NS_PER_TICK,
      rssBytes: status?.rssBytes ?? stat.rssPages * 4096,
      readBytes: io?.readBytes ?? 0,
      writeBytes: io?.writeBytes ?? 0,
      ...(ioWaitNs !== undefined ? { ioWaitNs } : {}),
      ...(counters?.netSendBytes !== undefined ? { netSendBytes: counters.netSendBytes } : {}),
      ...(counters?.netRecvBytes !== undefined ? { netRecvBytes: counters.netRecvBytes } : {}),
      ...(counters?.syscalls ? { syscalls: counters.syscalls } : {}),
      ...(counters?.cgroup ? { cgroup: counters.cgroup } : {}),
      state: stat.state.slice(0, 1),
      threads: stat.threads,
    });
  }
  return out;
}

export function startProcessSampler(options: ProcessSamplerOptions): { stop(): void; tick(): void } {
  const paths = options.paths ?? defaultProcPaths;
  const delayAcct = delayAccountingEnabled(paths);
  const counters = options.source?.counters?.bind(options.source) as
    | ((pid: number) => SamplerCounters | undefined)
    | undefined;
  const tick = () => {
    const batch = [
      ...(options.extra?.() ?? []),
      ...sampleProcesses(options.live(), { paths, delayAcct, ...(counters ? { counters } : {}) }),
    ];
    if (batch.length > 0) options.onBatch(batch);
  };
  const timer = setInterval(tick, options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), tick };
}
