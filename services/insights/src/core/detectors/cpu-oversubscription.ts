// CPU oversubscription while tasks ran: PSI cpu "some" avg10 above the threshold, or a load
// average above CPUs x loadPerCpu. Concerns the traced process that used the most CPU.
import type { HostSample } from '@tracer/events';
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { formatDuration, who } from './format.ts';
import { advanceEpisode } from './host-episodes.ts';

export function detectCpuOversubscription(
  ctx: DetectorContext,
  h: HostSample,
  alive: ProcessRecord[],
  settings: ProcessRecord['settings'],
): void {
  const s = settings.cpuOversubscription;
  if (!s.enabled) return;
  const some10 = h.pressure?.cpu?.some10;
  const cpus = ctx.state.host.cpus;
  const overloaded = cpus !== undefined && h.load1 >= cpus * s.loadPerCpu;
  const active = alive.length > 0 && ((some10 ?? 0) >= s.minSome10 || overloaded);
  const host = ctx.state.host;
  const { episode, ended } = advanceEpisode(
    host.cpu,
    active,
    h.ts,
    'host#cpu_oversubscription',
    some10 ?? (cpus ? (100 * h.load1) / cpus : 0),
  );
  host.cpu = episode;
  if (episode) {
    for (const p of alive) episode.affected.add(p.key);
    if (h.ts - episode.startTs >= s.minNs) {
      episode.open = true;
      const top = [...alive].sort((a, b) => b.cpuNs - a.cpuNs)[0];
      ctx.upsert(episode.id, top, {
        kind: 'cpu_oversubscription',
        severity: 'warning',
        startTs: episode.startTs,
        summary: `Host CPU oversubscribed for ${formatDuration(h.ts - episode.startTs)} while ${episode.affected.size} traced process(es) ran (${some10 !== undefined ? `PSI cpu some ${some10.toFixed(0)}%, ` : ''}load ${h.load1.toFixed(1)}${cpus ? ` on ${cpus} CPUs` : ''})${top ? `; busiest: ${who(top)}` : ''}.`,
        evidence: {
          ...(some10 !== undefined ? { cpuSome10: some10 } : {}),
          load1: h.load1,
          ...(cpus ? { cpus } : {}),
          cpuBusyRatio: h.cpuBusyRatio,
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
