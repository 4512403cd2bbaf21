import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import type { AttributionChange, TelemetryEvent } from '@tracer/events';
import { defaultToolRules } from '../tool-rules-file.ts';
import { attribute, createAttribution } from './attributor.ts';
import { forgetFinished, restoreAttribution, snapshotOf } from './retention.ts';
import { EventBuilder, fixtureEvents, fixtureText } from './test-events.ts';
import type { AttributionInput, AttributionState } from './types.ts';

const rules = defaultToolRules();

/** Through structured clone and back, as the service's snapshots go. */
const roundTrip = (state: AttributionState) =>
  restoreAttribution(deserialize(serialize(snapshotOf(state))) as ReturnType<typeof snapshotOf>, rules);

/**
 * Feeds events in batches (file wants answered from `files`), optionally forgetting after each
 * batch and passing the state through serialization before batch `restartAt`. Returns the last
 * published state of every record.
 */
function run(
  events: AttributionInput[],
  o: { files?: Record<string, string>; restartAt?: number[]; forget?: boolean; batch?: number } = {},
): { finals: Map<string, AttributionChange>; state: AttributionState } {
  let state = createAttribution({ rules });
  const finals = new Map<string, AttributionChange>();
  const take = (changes: AttributionChange[]) => {
    for (const c of changes) finals.set(`${c.entity}:${c.record.id}`, c);
  };
  const size = o.batch ?? 25;
  for (let i = 0, b = 0; i < events.length; i += size, b++) {
    if (o.restartAt?.includes(b)) state = roundTrip(state);
    let r = attribute(state, events.slice(i, i + size));
    take(r.changes);
    while (r.wants.length > 0) {
      r = attribute(
        state,
        r.wants.map((w) => ({ type: 'file.fact' as const, path: w.path, text: o.files?.[w.path] ?? null })),
      );
      take(r.changes);
    }
    if (o.forget) forgetFinished(state);
  }
  return { finals, state };
}

const traces: Array<[string, Record<string, string>]> = [
  ['snakemake-7-ok.strace.jsonl', {}],
  ['snakemake-7-fail.strace.jsonl', {}],
  ['snakemake-9-ok.strace.jsonl', {}],
  ['cwltool-fail.strace.jsonl', {}],
  ['nextflow-ok.strace.jsonl', JSON.parse(fixtureText('nextflow-ok.facts.json'))],
];

for (const [name, files] of traces) {
  test(`${name}: a state serialized and restored mid-trace ends with the same records`, () => {
    const events = fixtureEvents(name);
    const whole = run(events, { files });
    const batches = Math.ceil(events.length / 25);
    const restarted = run(events, { files, restartAt: [1, Math.floor(batches / 2), batches - 1], forget: true });
    assert.ok(whole.finals.size > 5);
    assert.deepEqual([...restarted.finals.entries()].sort(), [...whole.finals.entries()].sort());
  });
}

test('the state holds no class instance or function: structured clone keeps it whole', () => {
  const { state } = run(fixtureEvents('snakemake-7-ok.strace.jsonl'));
  const back = roundTrip(state);
  assert.deepEqual(snapshotOf(back), snapshotOf(state));
});

/** The recorded Snakemake run again and again on one host, as a whole-host agent sees it. */
function longStream(copies: number): TelemetryEvent[] {
  const base = fixtureEvents('snakemake-7-ok.strace.jsonl').filter((e) => e.type !== 'trace.start');
  const t0 = base[0]!.ts;
  const span = base.at(-1)!.ts - t0 + 30e9;
  const out: TelemetryEvent[] = [];
  let seq = 0;
  for (let i = 0; i < copies; i++) {
    const remap = (u: string) => u.replace(/^(\w+)-(\d+)-/, (_m, boot, pid) => `${boot}-${Number(pid) + i * 1000}-`);
    for (const e of base) {
      const copy = { ...e, seq: seq++, ts: e.ts - t0 + i * span + 1.8e18 } as Record<string, unknown>;
      for (const k of ['pid', 'ppid', 'victimPid'])
        if (typeof copy[k] === 'number') copy[k] = (copy[k] as number) + i * 1000;
      for (const k of ['upid', 'parentUpid', 'victimUpid'])
        if (typeof copy[k] === 'string') copy[k] = remap(copy[k] as string);
      out.push(copy as unknown as TelemetryEvent);
    }
    // Host noise outside any run: a short command every few seconds, and one that never ends.
    const noise = new EventBuilder();
    noise.ts = 1.8e18 + i * span + 1e9;
    noise.exec(900_000 + i, ['cron']);
    if (i % 50 !== 0) noise.exit(900_000 + i);
    for (const e of noise.events) out.push({ ...e, seq: seq++ });
  }
  return out.sort((a, b) => a.ts - b.ts);
}

test('over a long whole-host stream the state stays bounded: finished runs and exited processes are forgotten', (t) => {
  const sizes: number[] = [];
  let state = createAttribution({ rules });
  const events = longStream(200);
  let runsSeen = 0;
  for (let i = 0; i < events.length; i += 100) {
    const r = attribute(state, events.slice(i, i + 100));
    runsSeen += r.changes.filter((c) => c.entity === 'run' && c.record.status === 'running').length > 0 ? 1 : 0;
    forgetFinished(state);
    if (i % 5000 === 0) {
      state = roundTrip(state);
      sizes.push(serialize(snapshotOf(state)).length);
    }
  }
  assert.ok(runsSeen >= 150, `runs seen: ${runsSeen}`);
  // At most the run in flight and the ones inside the grace period, and the 4 never-ending noise processes.
  assert.ok(state.runs.size <= 3, `runs kept: ${state.runs.size}`);
  assert.ok(state.procs.size < 200, `processes kept: ${state.procs.size}`);
  const early = Math.max(...sizes.slice(1, 4));
  const late = Math.max(...sizes.slice(-3));
  assert.ok(late < early * 1.5, `snapshot bytes early ${early}, late ${late}`);
  t.diagnostic(`snapshot bytes over the stream: ${sizes.join(', ')}`);
});

test('a run ends, its processes exit: once the grace period passes it is forgotten', () => {
  const events = fixtureEvents('snakemake-7-ok.strace.jsonl');
  const state = createAttribution({ rules });
  attribute(state, events);
  assert.equal(forgetFinished(state).runs, 0, 'within the grace period');
  const last = events.at(-1)!;
  attribute(state, [
    {
      ...last,
      seq: last.seq + 1,
      ts: last.ts + 61e9,
      type: 'process.sample',
      pid: 4242,
      upid: 'x',
      cpuNs: 0,
      rssBytes: 0,
      readBytes: 0,
      writeBytes: 0,
      state: 'S',
    } as TelemetryEvent,
  ]);
  const forgot = forgetFinished(state);
  assert.equal(forgot.runs, 1);
  assert.equal(state.runs.size, 0);
  assert.equal(state.entities.size, 0);
  assert.equal(state.wanted.size, 0);
  assert.deepEqual([...state.procs.keys()], [state.rootUpid], 'only the trace root stays');
});

test('a nested engine run is forgotten before the script run that started it, which goes on unharmed', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['bash', 'run.sh']);
  b.spawn(2, 1, ['fastqc', 'b.fq']).exit(2);
  b.spawn(3, 1, ['/usr/bin/python3', '/usr/bin/snakemake', '-c2']);
  b.spawn(4, 3, ['/usr/bin/bash', '-c', 'set -euo pipefail;  samtools index x.bam']).exit(4);
  b.exit(3);
  const first = b.events.length;
  b.at(120_000).spawn(5, 1, ['fastqc', 'a.fq']).sample(5, 50).exit(5, 0, { peakMiB: 60 });
  b.exit(1);
  const whole = run(b.events, { batch: first });
  const state = createAttribution({ rules });
  const finals = new Map<string, AttributionChange>();
  for (const batch of [b.events.slice(0, first), b.events.slice(first, first + 1), b.events.slice(first + 1)]) {
    for (const c of attribute(state, batch).changes) finals.set(`${c.entity}:${c.record.id}`, c);
    forgetFinished(state);
  }
  assert.deepEqual(
    [...state.runs.values()].map((r) => r.engine),
    ['script'],
    'the snakemake run ended 2 min ago: gone, its parent stays',
  );
  assert.deepEqual([...finals.entries()].sort(), [...whole.finals.entries()].sort());
});
