// Memory pressure on the host while tasks ran: PSI memory "some" avg10 above the threshold,
// or little memory left available. Concerns the traced process with the largest RSS.
import type { HostSample, TelemetryEvent } from '@tracer/events';
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { formatBytes, formatDuration, who } from './format.ts';
import { advanceEpisode } from './host-episodes.ts';

export function detectMemoryPressure(
  ctx: DetectorContext,
  h: HostSample,
  alive: ProcessRecord[],
  settings: ProcessRecord['settings'],
): void {
  const s = settings.memoryPressure;
  if (!s.enabled) return;
  const some10 = h.pressure?.memory?.some10 ?? 0;
  const total = h.memoryUsedBytes + h.memoryAvailableBytes;
  const availShare = total > 0 ? h.memoryAvailableBytes / total : 1;
  const active = alive.length > 0 && (some10 >= s.minSome10 || availShare <= s.maxAvailableShare);
  const host = ctx.state.host;
  const { episode, ended } = advanceEpisode(host.memory, active, h.ts, 'host#memory_pressure', some10);
  host.memory = episode;
  if (episode) {
    for (const p of alive) episode.affected.add(p.key);
    if (h.ts - episode.startTs >= s.minNs) {
      episode.open = true;
      const top = [...alive].sort((a, b) => b.rssBytes - a.rssBytes)[0];
      ctx.upsert(episode.id, top, {
        kind: 'memory_pressure',
        severity: 'warning',
        startTs: episode.startTs,
        summary: `Host memory pressure for ${formatDuration(h.ts - episode.startTs)} while ${episode.affected.size} traced process(es) ran (PSI memory some ${episode.peak.toFixed(0)}%, ${formatBytes(h.memoryAvailableBytes)} available)${top ? `; largest: ${who(top)} at ${formatBytes(top.rssBytes)}` : ''}.`,
        evidence: {
          peakSome10: episode.peak,
          memoryAvailableBytes: h.memoryAvailableBytes,
          memoryUsedBytes: h.memoryUsedBytes,
          affectedProcesses: episode.affected.size,
          durationNs: h.ts - episode.startTs,
        },
      });
    }
  }
  if (ended?.open) {
    ctx.patch(ended.id, { state: 'resolved', endTs: h.ts });
  }
}

/**
 * Memory pressure inside the process's own cgroup (its PSI, from process.sample.cgroup): a
 * container or job at its memory limit stalls while the host looks fine. One episode per
 * cgroup (processes sharing it count together), opened after `minNs`, resolved when it ends.
 */
export function detectCgroupMemoryPressure(
  ctx: DetectorContext,
  p: ProcessRecord,
  s: Extract<TelemetryEvent, { type: 'process.sample' }>,
): void {
  const set = p.settings.memoryPressure;
  if (!set.enabled) return;
  const some10 = s.cgroup?.pressure?.memory?.some10;
  if (some10 === undefined) return;
  const key = p.cgroupId ?? p.key;
  ctx.state.cgroupMemory ??= new Map();
  const episodes = ctx.state.cgroupMemory;
  const { episode, ended } = advanceEpisode(
    episodes.get(key),
    some10 >= set.minSome10,
    s.ts,
    `cgroup:${key}#memory_pressure`,
    some10,
  );
  if (episode) {
    episodes.set(key, episode);
    episode.affected.add(p.key);
    if (s.ts - episode.startTs >= set.minNs) {
      episode.open = true;
      const limit = s.cgroup?.memoryLimitBytes;
      const usage = s.cgroup?.memoryUsageBytes;
      const use =
        usage !== undefined
          ? `, ${formatBytes(usage)}${limit !== undefined ? ` of its ${formatBytes(limit)} limit` : ''} in use`
          : '';
      // One owner for the episode: the first process seen under pressure there.
      const owner = ctx.state.processes.get(episode.affected.values().next().value ?? p.key) ?? p;
      ctx.upsert(episode.id, owner, {
        kind: 'memory_pressure',
        severity: 'warning',
        startTs: episode.startTs,
        summary: `Memory pressure in the cgroup of ${who(owner)} for ${formatDuration(s.ts - episode.startTs)} (PSI memory some ${episode.peak.toFixed(0)}%${use}).`,
        evidence: {
          scope: 'cgroup',
          ...(p.cgroupId ? { cgroupId: p.cgroupId } : {}),
          peakSome10: episode.peak,
          ...(limit !== undefined ? { memoryLimitBytes: limit } : {}),
          ...(usage !== undefined ? { memoryUsageBytes: usage } : {}),
          affectedProcesses: episode.affected.size,
          durationNs: s.ts - episode.startTs,
        },
      });
    }
  } else {
    episodes.delete(key);
    if (ended?.open) ctx.patch(ended.id, { state: 'resolved', endTs: s.ts });
  }
}
