// Wall-clock nanoseconds (the envelope's `ts`) with sub-millisecond resolution: the
// monotonic high-resolution clock anchored once to the wall clock.
import { performance } from 'node:perf_hooks';
import { defaultProcPaths, type ProcPaths, readUptimeNs } from './procfs.ts';

export function nowNs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1e6);
}

/** Wall-clock time of boot, to turn /proc start times (since boot) into `ts` values. */
export function bootWallNs(paths: ProcPaths = defaultProcPaths): number {
  return nowNs() - readUptimeNs(paths);
}
