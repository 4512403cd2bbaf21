import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace, analyzeTraceState } from '../analyze-trace.ts';
import { defaultSettings } from '../config.ts';
import { collectStepDurations, median, slowBaseline } from './slow-step.ts';

const S = 1e9;
const history = { 'align.sh': [10, 11, 9, 10, 12, 10, 60].map((s) => s * S) };

function run(seconds: number) {
  const t = traceBuilder();
  t.at(0).exec(101, ['bash', '/pipelines/align.sh', 'sample1']);
  for (let s = 1; s < seconds; s++) t.at(s).sample(101, { cpuS: s * 0.9 });
  t.at(seconds).exit(101);
  return t;
}

test('the robust baseline ignores a past outlier', () => {
  const b = slowBaseline(history['align.sh'], defaultSettings.slowStep)!;
  assert.equal(b.medianNs, 10 * S);
  assert.equal(median([1, 3, 2]), 2);
  assert.ok(b.thresholdNs <= 20 * S + 1);
});

test('5x slower than its history: slow_step says by how much', () => {
  const [i, ...rest] = analyzeTrace(run(50).events, { history });
  assert.equal(rest.length, 0);
  assert.equal(i!.kind, 'slow_step');
  assert.equal(i!.pid, 101);
  assert.equal(i!.evidence.ratio, 5);
  assert.match(i!.summary, /5\.0x the median of 10 s over its last 7 runs of align\.sh/);
});

test('within the normal spread: nothing', () => {
  assert.deepEqual(analyzeTrace(run(14).events, { history }), []);
});

test('too little history: nothing', () => {
  assert.deepEqual(analyzeTrace(run(50).events, { history: { 'align.sh': [10 * S, 10 * S] } }), []);
});

test('fires while the step is still running, once past the threshold', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['bash', '/pipelines/align.sh', 'sample1']);
  for (let s = 1; s <= 25; s++) t.at(s).sample(101, { cpuS: s });
  const [i] = analyzeTrace(t.events, { history });
  assert.equal(i?.kind, 'slow_step');
  assert.equal(i!.evidence.finished, false);
});

test('history can be collected from earlier traces with the same keys', () => {
  const past: number[] = [];
  for (let k = 0; k < 6; k++) {
    const { state } = analyzeTraceState(run(10 + (k % 2)).events);
    past.push(...(collectStepDurations(state)['align.sh'] ?? []));
  }
  assert.equal(past.length, 6);
  const [i] = analyzeTrace(run(50).events, { history: { 'align.sh': past } });
  assert.equal(i?.kind, 'slow_step');
});

test("a step's history is its tasks' durations, not its processes'; an engine's helpers have none", () => {
  // A Snakemake step `align` whose task runs bwa (8 s) and a 10 ms du beside it, and the
  // engine's own nodejs helper running the whole 20 s.
  const attribution = (p: { argv: string[] }) =>
    p.argv[0] === 'snakemake'
      ? { pipeline: 'wf', engine: 'snakemake', isRunRoot: true }
      : p.argv[0] === 'bash'
        ? { pipeline: 'wf', engine: 'snakemake', step: 'align', taskKey: 'align (A)', isTaskRoot: true }
        : undefined;
  const t = traceBuilder();
  t.at(0)
    .exec(10, ['snakemake', '-c1'])
    .exec(11, ['nodejs', '--eval', 'x'], { ppid: 10 })
    .exec(20, ['bash', '-c', 'bwa mem r.fa a.fq > a.sam; du -s .'], { ppid: 10 })
    .exec(21, ['bwa', 'mem', 'r.fa', 'a.fq'], { ppid: 20 })
    .at(8)
    .exit(21)
    .exec(22, ['du', '-s', '.'], { ppid: 20 })
    .at(8.01)
    .exit(22)
    .exit(20)
    .at(20)
    .exit(11)
    .exit(10);
  const { state } = analyzeTraceState(t.events, { attribution });
  const durations = collectStepDurations(state);
  assert.deepEqual(Object.keys(durations), ['wf :: align']);
  assert.equal(durations['wf :: align']!.length, 1);
  assert.ok(Math.abs(durations['wf :: align']![0]! - 8.01 * S) < 1e6);
});
