// Runs commands under the real agent (`./tracer run --out FILE -- ...`) and analyzes the
// trace it wrote with the insights core, replayed slice by slice as it would run live, so a
// test can say when each insight first appeared.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultToolRules } from '@tracer/attribution';
import { attribute, createAttribution } from '@tracer/attribution/core';
import { type Insight, type TelemetryEvent, validateEvent } from '@tracer/events';
import {
  attachTaskRefs,
  createAttributionIndex,
  indexAttributionChanges,
  taskRefsByUpid,
} from '../src/core/attribution-link.ts';
import { createInsightsState, stepInsights } from '../src/core/engine.ts';
import type { InsightsOptions } from '../src/core/types.ts';
import { insightProblems } from './valid-insight.ts';

export const repoRoot = new URL('../../../', import.meta.url).pathname;
const tracer = join(repoRoot, 'tracer');

let availability: string | undefined | null = null;

/** Why `tracer run` cannot be used here (undefined when it works). */
export function tracerRunUnavailable(): string | undefined {
  if (availability !== null) return availability;
  const out = join(mkdtempSync(join(tmpdir(), 'tracer-probe-')), 't.jsonl');
  const r = spawnSync(tracer, ['run', '--out', out, '--', 'sh', '-c', 'echo hi'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) availability = `tracer run could not start: ${r.error.message}`;
  else if (r.status !== 0)
    availability = `tracer run -- sh -c 'echo hi' exited ${r.status}: ${(r.stderr ?? '').slice(-400)}`;
  else {
    try {
      readFileSync(out, 'utf8');
      availability = undefined;
    } catch {
      availability = 'tracer run wrote no trace';
    }
  }
  return availability;
}

export interface TracedRun {
  status: number | null;
  stderr: string;
  events: TelemetryEvent[];
  mode: 'bpf' | 'proc' | undefined;
  path: string;
}

/** `tracer run --out FILE -- argv`, with `during` running while it runs (e.g. to release a stall). */
export async function traceRun(
  argv: string[],
  o: { env?: Record<string, string>; during?: () => Promise<void>; timeoutMs?: number } = {},
): Promise<TracedRun> {
  const path = join(mkdtempSync(join(tmpdir(), 'tracer-fault-')), 'trace.jsonl');
  const child = spawn(tracer, ['run', '--sample-interval', '250', '--out', path, '--', ...argv], {
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 90_000);
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  if (o.during) await o.during();
  const status = await done;
  clearTimeout(timer);
  const events: TelemetryEvent[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const v = validateEvent(JSON.parse(line));
    if (v.ok) events.push(v.event);
  }
  const start = events.find((e) => e.type === 'trace.start');
  return { status, stderr, events, mode: start?.type === 'trace.start' ? start.mode : undefined, path };
}

/**
 * Final insights and, for each id, the time of the replay slice in which it first appeared.
 * With `attribution`, the attribution core runs on the same slices first, as `tracer run` would.
 */
export function replay(
  events: readonly TelemetryEvent[],
  options: InsightsOptions = {},
  sliceNs = 250e6,
  attribution = false,
): { insights: Insight[]; firstSeenTs: Map<string, number> } {
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  const state = createInsightsState();
  const attr = attribution ? createAttribution({ rules: defaultToolRules() }) : undefined;
  const index = createAttributionIndex();
  const firstSeenTs = new Map<string, number>();
  let i = 0;
  for (let t = (sorted[0]?.ts ?? 0) + sliceNs; i < sorted.length; t += sliceNs) {
    const batch: TelemetryEvent[] = [];
    while (i < sorted.length && sorted[i]!.ts < t) batch.push(sorted[i++]!);
    if (attr) {
      indexAttributionChanges(index, attribute(attr, batch).changes);
      attachTaskRefs(state, taskRefsByUpid(index), options);
    }
    for (const ins of stepInsights(state, batch, t, options).insights)
      if (!firstSeenTs.has(ins.id)) firstSeenTs.set(ins.id, t);
  }
  const insights = [...state.insights.values()];
  const problems = insightProblems(insights);
  if (problems.length) throw new Error(`insights that break the schema: ${problems.join(' | ')}`);
  return { insights, firstSeenTs };
}

export function pidOf(events: readonly TelemetryEvent[], match: (argv: string[]) => boolean): number | undefined {
  for (const e of events) if (e.type === 'process.exec' && match(e.argv)) return e.pid;
  return undefined;
}

export function describe(insights: Insight[]): string {
  return JSON.stringify(
    insights.map((i) => ({
      kind: i.kind,
      pid: i.pid,
      tool: i.tool,
      category: i.category,
      errorLines: i.errorLines,
      summary: i.summary,
    })),
    null,
    1,
  );
}

/** Resolves once a process runs with exactly this command line (machines under load start slowly). */
export async function waitForProcess(needle: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0').join(' ') === needle) return;
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no process running ${needle} after ${timeoutMs} ms`);
}
