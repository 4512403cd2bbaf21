// Long I/O wait: the share of the process's wall time spent blocked on storage, and the
// absolute time. The kernel's block-I/O delay when the agent has it; otherwise time in
// state D between samples (an estimate, said so in the evidence).
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { formatBytes, formatDuration, pct, who } from './format.ts';

export function detectIoWait(ctx: DetectorContext, p: ProcessRecord): void {
  const s = p.settings.ioWait;
  if (!s.enabled) return;
  const end = p.endTs ?? p.lastSampleTs;
  if (end === undefined) return;
  const wallNs = end - p.startTs;
  if (wallNs <= 0) return;
  const kernel = p.ioWaitNs !== undefined && p.ioWaitNs > 0;
  const sync = syncDominant(p);
  const blockNs = kernel ? p.ioWaitNs! : p.dStateNs;
  // Time asleep in fsync counts as I/O wait when it is the class the process blocked in most.
  const waitNs = sync !== undefined ? Math.max(blockNs, sync) : blockNs;
  const share = Math.min(1, waitNs / wallNs);
  const id = `${p.key}#io_wait`;
  if (share < s.minShare || waitNs < s.minNs) return;
  const syncShare = sync !== undefined ? Math.min(1, sync / wallNs) : undefined;
  const fsync =
    syncShare !== undefined && syncShare >= s.minShare ? `; blocked in fsync ${pct(syncShare)} of the time` : '';
  ctx.upsert(id, p, {
    kind: 'io_wait',
    severity: 'warning',
    startTs: p.startTs,
    ...(p.endTs !== undefined ? { endTs: p.endTs } : {}),
    summary: `${who(p)} ${p.endTs !== undefined ? 'spent' : 'has spent'} ${formatDuration(waitNs)} (${pct(share)} of ${formatDuration(wallNs)}) blocked on disk I/O${fsync}; read ${formatBytes(p.readBytes)}, wrote ${formatBytes(p.writeBytes)}.`,
    evidence: {
      ioWaitNs: Math.round(waitNs),
      wallNs,
      share: Math.round(share * 1000) / 1000,
      source:
        sync !== undefined && sync >= blockNs
          ? 'time asleep in fsync-class syscalls'
          : kernel
            ? 'kernel block-I/O delay'
            : 'samples in state D',
      ...(sync !== undefined ? { syncNs: Math.round(sync) } : {}),
      readBytes: p.readBytes,
      writeBytes: p.writeBytes,
      ...(p.hostSeen?.maxIoSome10 !== undefined ? { hostIoPressureSome10: p.hostSeen.maxIoSome10 } : {}),
    },
  });
}

/**
 * Time asleep in fsync-class calls, when that is the class the process blocked in most.
 * `wait` (futex, poll, sleep, wait4) is left out: it is idling, not being held up.
 */
export function syncDominant(p: ProcessRecord): number | undefined {
  const c = p.syscallNs;
  const sync = c?.sync;
  if (!c || !sync) return undefined;
  for (const [k, v] of Object.entries(c)) if (k !== 'sync' && k !== 'wait' && v > sync) return undefined;
  return sync;
}
