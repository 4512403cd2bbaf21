// Process identity (DESIGN.md section 4): `<boot id prefix>-<pid>-<start time ns since boot>`.
// A pid is reused within minutes on a busy host; the start time never is for one boot.

/** USER_HZ: the unit of /proc/<pid>/stat times. It is 100 on every Linux ABI we run on. */
export const USER_HZ = 100;
export const NS_PER_TICK = 1e9 / USER_HZ;

/** First 8 hex digits of /proc/sys/kernel/random/boot_id, the prefix of every upid. */
export function bootIdPrefix(bootId: string): string {
  const hex = bootId
    .trim()
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '');
  if (hex.length < 8) throw new Error(`boot id ${JSON.stringify(bootId)} has fewer than 8 hex digits`);
  return hex.slice(0, 8);
}

export function makeUpid(bootPrefix: string, pid: number, startNs: number): string {
  return `${bootPrefix}-${pid}-${Math.max(0, Math.round(startNs))}`;
}

export function parseUpid(upid: string): { bootPrefix: string; pid: number; startNs: number } | undefined {
  const m = /^([0-9a-f]{8})-([0-9]+)-([0-9]+)$/.exec(upid);
  if (!m) return undefined;
  return { bootPrefix: m[1]!, pid: Number(m[2]), startNs: Number(m[3]) };
}

/**
 * Whether a /proc start time (clock ticks) names the same process as `upid`. The BPF source
 * stamps task->start_boottime in ns, /proc shows the same value truncated to ticks.
 */
export function upidMatchesStartTicks(upid: string, startTicks: number): boolean {
  const parsed = parseUpid(upid);
  return parsed !== undefined && Math.floor(parsed.startNs / NS_PER_TICK) === startTicks;
}
