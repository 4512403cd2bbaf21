// Step durations of earlier `tracer run`s, so slow_step has a history without a server: a
// small JSON file in the data folder, keyed like the insights core's history
// (`pipeline :: step`), the newest durations kept. The platform's insights service reads
// the same figures from the attribution tables instead.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Durations kept per step: enough for a robust median, small enough to read at every run. */
export const STEP_HISTORY_KEPT = 50;

export type StepHistory = Record<string, number[]>;

export const stepHistoryPath = (dataDir: string) => join(dataDir, 'step-history.json');

/** The history in `path`; an absent or unreadable file is an empty history (and said so). */
export function readStepHistory(path: string, warn: (message: string) => void = () => {}): StepHistory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const value = JSON.parse(text) as unknown;
    const out: StepHistory = {};
    if (value && typeof value === 'object')
      for (const [key, xs] of Object.entries(value))
        if (Array.isArray(xs)) out[key] = xs.filter((x): x is number => Number.isFinite(x) && x > 0);
    return out;
  } catch (err) {
    warn(`ignoring the step history ${path}: ${(err as Error).message}`);
    return {};
  }
}

/** Adds one run's durations, keeping the newest STEP_HISTORY_KEPT per key. Pure. */
export function mergeStepHistory(history: StepHistory, run: StepHistory): StepHistory {
  const out: StepHistory = { ...history };
  for (const [key, xs] of Object.entries(run)) out[key] = [...(out[key] ?? []), ...xs].slice(-STEP_HISTORY_KEPT);
  return out;
}

/** Writes atomically (a concurrent reader sees the old or the new file, never half of one). */
export function writeStepHistory(path: string, history: StepHistory): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(history)}\n`);
  renameSync(tmp, path);
}
