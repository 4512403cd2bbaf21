// A host condition (memory pressure, CPU oversubscription, idleness) is one episode from the
// first sample that shows it to the first that does not: one insight per episode, opened
// once it has lasted long enough, resolved when it ends.
import type { Episode } from '../types.ts';

export function advanceEpisode(
  ep: Episode | undefined,
  active: boolean,
  ts: number,
  idPrefix: string,
  level: number,
): { episode: Episode | undefined; ended?: Episode } {
  if (active) {
    const e = ep ?? {
      id: `${idPrefix}@${ts}`,
      startTs: ts,
      lastTs: ts,
      open: false,
      peak: level,
      affected: new Set<string>(),
    };
    e.lastTs = ts;
    e.peak = Math.max(e.peak, level);
    return { episode: e };
  }
  return ep ? { episode: undefined, ended: ep } : { episode: undefined };
}
