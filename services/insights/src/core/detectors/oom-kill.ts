// OOM kill: the kernel's own record names the victim (never the task that triggered the
// kill), with the cgroup's limit and usage. The insight opens when the record arrives, before
// the exit, and the failure path later adds the exit status to the same insight.
import type { OomKill } from '@tracer/events';
import { findProcess } from '../processes.ts';
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { formatBytes, who } from './format.ts';

export function failureId(p: ProcessRecord): string {
  return `${p.key}#failure`;
}

export function peakBeforeKill(p: ProcessRecord): number {
  return Math.max(p.peakRssBytes, p.oom?.victimRssBytes ?? 0);
}

export function oomSummary(p: ProcessRecord): string {
  const o = p.oom!;
  const parts = [
    o.constraint === 'memcg' ? 'its cgroup hit its memory limit' : `${o.constraint} out of memory`,
    o.memoryLimitBytes !== undefined ? `limit ${formatBytes(o.memoryLimitBytes)}` : undefined,
    o.memoryUsageBytes !== undefined ? `usage ${formatBytes(o.memoryUsageBytes)}` : undefined,
    `peak RSS before the kill ${formatBytes(peakBeforeKill(p))}`,
  ].filter(Boolean);
  return `${who(p)} was killed by the kernel OOM killer: ${parts.join(', ')}.`;
}

export function oomEvidence(p: ProcessRecord): Record<string, number | string> {
  const o = p.oom!;
  return {
    constraint: o.constraint,
    ...(o.memoryLimitBytes !== undefined ? { memoryLimitBytes: o.memoryLimitBytes } : {}),
    ...(o.memoryUsageBytes !== undefined ? { memoryUsageBytes: o.memoryUsageBytes } : {}),
    ...(o.victimRssBytes !== undefined ? { victimRssBytes: o.victimRssBytes } : {}),
    peakRssBytes: peakBeforeKill(p),
    ...(o.triggerPid !== undefined ? { triggerPid: o.triggerPid } : {}),
    ...(o.cgroupId !== undefined ? { cgroupId: o.cgroupId } : {}),
  };
}

export function onOomKill(ctx: DetectorContext, ev: OomKill): void {
  const victim = findProcess(ctx.state, ev.victimPid, ev.victimUpid);
  if (!victim) return;
  victim.oom = ev;
  ctx.state.touched.add(victim.key);
  if (!victim.settings.oomKill.enabled) return;
  ctx.upsert(failureId(victim), victim, {
    kind: 'oom_kill',
    severity: 'error',
    startTs: ev.ts,
    summary: oomSummary(victim),
    evidence: oomEvidence(victim),
    category: 'oom',
    confidence: 0.97,
  });
  ctx.state.failureOf.set(victim.key, victim.key);
}
