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
  const waitNs = kernel ? p.ioWaitNs! : p.dStateNs;
  const share = Math.min(1, waitNs / wallNs);
  const id = `${p.key}#io_wait`;
  if (share < s.minShare || waitNs < s.minNs) return;
  ctx.upsert(id, p, {
    kind: 'io_wait',
    severity: 'warning',
    startTs: p.startTs,
    ...(p.endTs !== undefined ? { endTs: p.endTs } : {}),
    summary: `${who(p)} ${p.endTs !== undefined ? 'spent' : 'has spent'} ${formatDuration(waitNs)} (${pct(share)} of ${formatDuration(wallNs)}) blocked on disk I/O; read ${formatBytes(p.readBytes)}, wrote ${formatBytes(p.writeBytes)}.`,
    evidence: {
      ioWaitNs: Math.round(waitNs),
      wallNs,
      share: Math.round(share * 1000) / 1000,
      source: kernel ? 'kernel block-I/O delay' : 'samples in state D',
      readBytes: p.readBytes,
      writeBytes: p.writeBytes,
      ...(p.hostSeen?.maxIoSome10 !== undefined ? { hostIoPressureSome10: p.hostSeen.maxIoSome10 } : {}),
    },
  });
}
