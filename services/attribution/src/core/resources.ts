// Resource aggregation over a set of processes (a tool execution, task, step or run).
//
// Counters (CPU, bytes, I/O wait) are sums of each process's latest cumulative figures: the
// last process.sample while it runs, the process.exit totals once it ended.
//
// Peak memory is the largest SIMULTANEOUS sum of RSS across the set, not the sum of per-process
// peaks (processes that never ran at the same time must not add up). A sweep over the event
// stream keeps, per live process, the RSS it contributes now and the running sum:
// - a sample sets the process's contribution to its sampled RSS;
// - between samples a process is assumed to keep its last sampled RSS;
// - a process that ends without ever being sampled (short-lived: `samtools index`, `mkdir`)
//   is counted at its kernel high-water mark, at its exit, on top of what the others hold then;
// - the result is never below any single process's kernel high-water mark.
// Limits: a spike between two samples of a multi-process task is seen only through that
// process's own high-water mark (so the sum at that moment may be under-estimated); forked
// children share pages with their parent until they write them, and RSS counts shared pages
// in each process (the same over-count `ps`, psutil and Snakemake's benchmark have).

export interface ProcCounters {
  cpuNs: number;
  rssBytes: number;
  peakRssBytes: number;
  readBytes: number;
  writeBytes: number;
  storageReadBytes: number;
  storageWriteBytes: number;
  ioWaitNs: number;
  netSendBytes: number;
  netRecvBytes: number;
}

export const zeroCounters = (): ProcCounters => ({
  cpuNs: 0,
  rssBytes: 0,
  peakRssBytes: 0,
  readBytes: 0,
  writeBytes: 0,
  storageReadBytes: 0,
  storageWriteBytes: 0,
  ioWaitNs: 0,
  netSendBytes: 0,
  netRecvBytes: 0,
});

/**
 * Incremental simultaneous-peak sweep for one set of processes. Plain data (no class), so an
 * attribution state survives structured-clone serialization (the service's snapshots).
 */
export interface PeakTracker {
  /** RSS each live process of the set holds now. */
  contrib: Map<string, number>;
  sum: number;
  peak: number;
}

export const newPeakTracker = (): PeakTracker => ({ contrib: new Map(), sum: 0, peak: 0 });

/** A sample (or a process joining the set) says `upid` holds `rssBytes` now. */
export function peakSet(t: PeakTracker, upid: string, rssBytes: number): void {
  t.sum += rssBytes - (t.contrib.get(upid) ?? 0);
  t.contrib.set(upid, rssBytes);
  if (t.sum > t.peak) t.peak = t.sum;
}

/** `upid` ended with this kernel high-water mark. */
export function peakExit(t: PeakTracker, upid: string, peakRssBytes: number, everSampled: boolean): void {
  const others = t.sum - (t.contrib.get(upid) ?? 0);
  const candidate = everSampled ? peakRssBytes : others + peakRssBytes;
  if (candidate > t.peak) t.peak = candidate;
  t.sum = others;
  t.contrib.delete(upid);
}

/** A process leaves the set while alive (its task changed). */
export function peakRemove(t: PeakTracker, upid: string): void {
  t.sum -= t.contrib.get(upid) ?? 0;
  t.contrib.delete(upid);
}
