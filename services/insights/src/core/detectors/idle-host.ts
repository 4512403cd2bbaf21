// Idle host: running, no traced process alive, CPU busy below the threshold for a while:
// paid for and doing nothing.
import type { HostSample } from '@tracer/events';
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { formatDuration, pct } from './format.ts';
import { advanceEpisode } from './host-episodes.ts';

export function detectIdleHost(
  ctx: DetectorContext,
  h: HostSample,
  alive: ProcessRecord[],
  settings: ProcessRecord['settings'],
): void {
  const s = settings.idleHost;
  if (!s.enabled) return;
  const active = alive.length === 0 && h.cpuBusyRatio <= s.maxCpuBusyRatio;
  const host = ctx.state.host;
  const { episode, ended } = advanceEpisode(host.idle, active, h.ts, 'host#idle_host', h.cpuBusyRatio);
  host.idle = episode;
  if (episode && h.ts - episode.startTs >= s.afterNs) {
    episode.open = true;
    ctx.upsert(episode.id, undefined, {
      kind: 'idle_host',
      severity: 'warning',
      startTs: episode.startTs,
      summary: `Host idle for ${formatDuration(h.ts - episode.startTs)}: no task running and CPU busy at most ${pct(episode.peak)}.`,
      evidence: { idleNs: h.ts - episode.startTs, maxCpuBusyRatio: episode.peak, thresholdNs: s.afterNs },
    });
  }
  if (ended?.open) {
    ctx.patch(ended.id, { state: 'resolved', endTs: h.ts });
  }
}
