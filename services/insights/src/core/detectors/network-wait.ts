// Long network wait: after network traffic, the process sits with no CPU, no disk I/O and no
// new bytes: waiting on a peer. Measured as the share of wall time (and the absolute time)
// spent so. Needs per-process network counters (the eBPF agent has them).
import { relevantSyscallError } from '../evidence.ts';
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { formatBytes, formatDuration, pct, who } from './format.ts';

export function detectNetworkWait(ctx: DetectorContext, p: ProcessRecord): void {
  const s = p.settings.networkWait;
  if (!s.enabled || p.lastNetTs === undefined) return;
  const end = p.endTs ?? p.lastSampleTs;
  if (end === undefined) return;
  const wallNs = end - p.startTs;
  if (wallNs <= 0) return;
  const waitNs = p.netIdleNs;
  const share = Math.min(1, waitNs / wallNs);
  // A long job that hangs on a peer at the end has a small share but a long current wait.
  const currentNs = p.endTs === undefined && p.lastSampleTs !== undefined ? p.lastSampleTs - p.lastProgressTs : 0;
  const long = currentNs >= p.settings.noProgress.afterNs;
  if (!long && (share < s.minShare || waitNs < s.minNs)) return;
  const netErrors = p.syscallErrors.filter((e) => e.addr && relevantSyscallError(e));
  const peer = netErrors[0]?.addr;
  ctx.upsert(`${p.key}#network_wait`, p, {
    kind: 'network_wait',
    severity: 'warning',
    startTs: p.startTs,
    ...(p.endTs !== undefined ? { endTs: p.endTs } : {}),
    summary: `${who(p)} ${p.endTs !== undefined ? 'spent' : 'has spent'} ${formatDuration(waitNs)} (${pct(share)} of ${formatDuration(wallNs)}) waiting on the network with nothing else to do${peer ? ` (${netErrors[0]!.errno} from ${peer})` : ''}; sent ${formatBytes(p.netSendBytes ?? 0)}, received ${formatBytes(p.netRecvBytes ?? 0)}.`,
    evidence: {
      networkWaitNs: Math.round(waitNs),
      wallNs,
      share: Math.round(share * 1000) / 1000,
      currentWaitNs: currentNs,
      netSendBytes: p.netSendBytes ?? 0,
      netRecvBytes: p.netRecvBytes ?? 0,
      ...(peer ? { peer } : {}),
    },
  });
}
