// Slower than typical: a step against its own history (durations are an input). The
// baseline is the median, the spread the MAD, so one past outlier does not move it; with
// fewer runs than `minHistory` nothing is said. Fires while the step is still running, as
// soon as it has run longer than the threshold.
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { formatDuration, who } from './format.ts';

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Baseline {
  medianNs: number;
  madNs: number;
  runs: number;
  thresholdNs: number;
}

export function slowBaseline(
  history: readonly number[],
  p: ProcessRecord['settings']['slowStep'],
): Baseline | undefined {
  if (history.length < p.minHistory) return undefined;
  const med = median(history);
  const mad = median(history.map((x) => Math.abs(x - med)));
  const thresholdNs = Math.max(med * p.factor, med + p.minRobustZ * 1.4826 * mad, p.minDurationNs);
  return { medianNs: med, madNs: mad, runs: history.length, thresholdNs };
}

/**
 * The key of a process's history: a task root's step; else, for a process in no task of an
 * engine, its tool (a plain script's commands). The processes inside a task and an engine's
 * helpers have none: mixed into a step's history, a 10 ms `du` beside 10 min tasks made every
 * task look slow, and cwltool's `nodejs` evaluator lives 3 ms or the whole run.
 */
export function stepKeyOf(p: ProcessRecord): string | undefined {
  const t = p.task;
  if (!t || (t.step === undefined && (t.engine === undefined || t.engine === 'script'))) return p.tool;
  return t.isTaskRoot ? t.step : undefined;
}

/**
 * The history key of a step within its pipeline: two pipelines' `align` steps are not one
 * history. A history holding only bare step keys (no pipeline known) is still looked up.
 */
export const historyKey = (pipeline: string | undefined, step: string): string =>
  pipeline ? `${pipeline} :: ${step}` : step;

/** A run's own root process: its time is the run's, and a slow step inside says why. */
const isRunRoot = (p: ProcessRecord) => p.task?.isRunRoot === true;

export function detectSlowStep(ctx: DetectorContext, p: ProcessRecord): void {
  const s = p.settings.slowStep;
  if (!s.enabled || !ctx.options.history || isRunRoot(p)) return;
  const key = stepKeyOf(p);
  if (key === undefined) return;
  const history = ctx.options.history[historyKey(p.task?.pipeline, key)] ?? ctx.options.history[key];
  if (!history) return;
  const b = slowBaseline(history, s);
  if (!b) return;
  const end = p.endTs ?? ctx.now;
  const durationNs = end - p.startTs;
  if (durationNs < b.thresholdNs) return;
  const ratio = durationNs / b.medianNs;
  const z = b.madNs > 0 ? (durationNs - b.medianNs) / (1.4826 * b.madNs) : null;
  const done = p.endTs !== undefined;
  ctx.upsert(`${p.key}#slow_step`, p, {
    kind: 'slow_step',
    severity: 'warning',
    startTs: p.startTs + Math.round(b.thresholdNs),
    ...(done ? { endTs: p.endTs! } : {}),
    summary: `${who(p)} ${done ? 'took' : 'has been running for'} ${formatDuration(durationNs)}, ${ratio.toFixed(1)}x the median of ${formatDuration(b.medianNs)} over its last ${b.runs} runs of ${key}.`,
    evidence: {
      step: key,
      durationNs,
      medianNs: b.medianNs,
      madNs: b.madNs,
      thresholdNs: Math.round(b.thresholdNs),
      ratio: Math.round(ratio * 100) / 100,
      robustZ: z === null ? null : Math.round(z * 10) / 10,
      historyRuns: b.runs,
      finished: done,
    },
  });
}

/**
 * Durations of the steps that succeeded in a past trace, by the key slow_step looks up first:
 * the `history` input of the next run can be built from earlier traces with this.
 */
export function collectStepDurations(state: import('../types.ts').EngineState): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const p of state.processes.values()) {
    const succeeded = p.exit?.code === 0 && p.exit.signal === null;
    const step = stepKeyOf(p);
    if (!succeeded || p.endTs === undefined || isRunRoot(p) || step === undefined) continue;
    const key = historyKey(p.task?.pipeline, step);
    const durations = out[key] ?? [];
    durations.push(p.endTs - p.startTs);
    out[key] = durations;
  }
  return out;
}
