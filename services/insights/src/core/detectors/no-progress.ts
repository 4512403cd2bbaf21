// No forward progress: alive, no CPU, no I/O and no output for N seconds. Judged on what
// was observed (the last sample), not on the clock, so a late batch cannot fake a stall;
// a service may let its clock extend that by `stallClockNs` while nothing new arrives. A
// process waiting on live children is not stalled (the children are), and one waiting on
// the network is reported as network_wait instead. Nor is one whose siblings work: in
// `bwa mem | samtools sort` the reader idles for minutes between the writer's batches.
import { hasLiveChildren, isAlive } from '../processes.ts';
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { formatDuration, who } from './format.ts';

export function detectNoProgress(ctx: DetectorContext, p: ProcessRecord): void {
  const s = p.settings.noProgress;
  const id = `${p.key}#no_progress`;
  const existing = ctx.get(id);
  if (!isAlive(p)) {
    if (existing && existing.state === 'open' && existing.endTs === undefined) ctx.patch(id, { endTs: p.endTs! });
    return;
  }
  if (!s.enabled || s.ignoreTools.includes(p.tool) || p.lastSampleTs === undefined) return;
  if (existing?.state === 'open' && p.lastProgressTs > existing.startTs) {
    ctx.patch(id, {
      state: 'resolved',
      endTs: p.lastProgressTs,
      summary: `${who(p)} made no progress for ${formatDuration(p.lastProgressTs - existing.startTs)}, then resumed.`,
    });
    return;
  }
  if (hasLiveChildren(ctx.state, p)) return;
  // Idle after network traffic is waiting on a peer: network_wait's to report.
  if (p.lastNetTs !== undefined && p.settings.networkWait.enabled) return;
  const observedTs = p.lastSampleTs + clockExtensionNs(ctx, p.lastSampleTs);
  const stalledNs = observedTs - p.lastProgressTs;
  if (stalledNs < s.afterNs) return;
  if (siblingsProgressedSince(ctx, p, observedTs - s.afterNs)) return;
  ctx.upsert(id, p, {
    kind: 'no_progress',
    severity: 'warning',
    startTs: p.lastProgressTs,
    summary: `${who(p)} has made no progress for ${formatDuration(stalledNs)}: alive, no CPU, no I/O and no output (state ${p.state ?? '?'}).`,
    evidence: {
      stalledNs,
      thresholdNs: s.afterNs,
      cpuNs: p.cpuNs,
      readBytes: p.readBytes,
      writeBytes: p.writeBytes,
      state: p.state ?? null,
      lastOutputTs: p.lastOutputTs ?? null,
    },
  });
}

/** Samples of a live process further apart than this mean the agent lost sight of it. */
const SAMPLE_GAP_NS = 10e9;

/**
 * How long past its last sample a process counts as observed: only while the whole host is
 * silent (the service's clock running past the host's newest event, up to stallClockNs), and
 * only when that sample was among the host's latest. A process whose samples stopped while
 * the host kept sending (an exit the agent lost) is not stalled by the clock.
 */
function clockExtensionNs(ctx: DetectorContext, lastSampleTs: number): number {
  const limit = ctx.options.stallClockNs ?? 0;
  if (limit <= 0 || ctx.state.lastTs - lastSampleTs > SAMPLE_GAP_NS) return 0;
  return Math.min(Math.max(0, ctx.now - ctx.state.lastTs), limit);
}

/** Whether a live sibling (or one of its descendants) made progress after `sinceTs`. */
function siblingsProgressedSince(ctx: DetectorContext, p: ProcessRecord, sinceTs: number): boolean {
  const parent = p.parentKey ? ctx.state.processes.get(p.parentKey) : undefined;
  if (!parent) return false;
  const queue = parent.children.filter((k) => k !== p.key);
  for (let n = 0; queue.length && n < 256; n++) {
    const q = ctx.state.processes.get(queue.shift()!);
    if (!q || !isAlive(q)) continue;
    if (q.lastProgressTs > sinceTs) return true;
    queue.push(...q.children);
  }
  return false;
}
