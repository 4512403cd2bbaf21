import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../test/trace-builder.ts';
import { analyzeTrace } from './analyze-trace.ts';
import { createInsightsState, stepInsights } from './engine.ts';

test('one problem, one insight: repeats fold, updates keep the id, unchanged steps emit nothing', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['writer']);
  const state = createInsightsState();
  const emitted: string[] = [];
  for (let s = 1; s <= 50; s++) {
    t.at(s)
      .syscallError(101, 'write', 'ENOSPC', { path: '/scratch/out.bin', count: 10 })
      .log(101, `write failed at block ${s}: No space left on device\n`);
    const batch = t.events.splice(0);
    emitted.push(...stepInsights(state, batch, t.now).insights.map((i) => i.id));
  }
  assert.equal(state.insights.size, 1);
  assert.equal(new Set(emitted).size, 1);
  const [i] = [...state.insights.values()];
  assert.equal(i!.evidence.failedCalls, 500);
  assert.equal(i!.errorEntries?.length, 1);
  assert.equal(i!.errorEntries?.[0]?.count, 50);
  assert.deepEqual(stepInsights(state, [], t.now + 1e9).insights, []);
});

test('failures handled by the parent are not reported, however many', () => {
  const t = traceBuilder();
  t.at(0).exec(100, ['bash', 'poll.sh']);
  for (let k = 0; k < 200; k++)
    t.at(k * 0.01)
      .exec(1000 + k, ['test', '-e', `/tmp/ready.${k}`], { ppid: 100 })
      .exit(1000 + k, { code: 1 });
  t.at(3).exit(100, { code: 0 });
  assert.deepEqual(analyzeTrace(t.events), []);
});

test('task roots fail on their own, once each, even while the pipeline runs on', () => {
  const t = traceBuilder();
  const attribution = (p: { argv: string[]; pid: number }) =>
    p.argv[0] === 'bash' ? { taskId: `t${p.pid}`, step: 'ALIGN', isTaskRoot: true } : undefined;
  t.at(0).exec(10, ['nextflow', 'run', 'main.nf']);
  for (let k = 0; k < 5; k++) {
    t.at(1 + k)
      .exec(100 + k, ['bash', '.command.run'], { ppid: 10, cwd: `/w/${k}` })
      .exec(200 + k, ['bwa', 'mem', `s${k}.fq`], { ppid: 100 + k, cwd: `/w/${k}` })
      .log(200 + k, '[E::bwa_idx_load_from_disk] fail to locate the index files\n')
      .exit(200 + k, { code: 1 })
      .exit(100 + k, { code: 1 });
  }
  // Without attribution nothing is known yet: nextflow, which would pass the failure on, still runs.
  assert.deepEqual(analyzeTrace(t.events), []);
  const insights = analyzeTrace(t.events, { attribution });
  assert.deepEqual(
    insights.map((i) => [i.kind, i.pid, i.taskId, i.category]),
    [0, 1, 2, 3, 4].map((k) => ['nonzero_exit', 200 + k, `t${100 + k}`, 'missing_input']),
  );
});

test('processes are forgotten long after they exit, unless an open insight needs them', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['bash', 'x.sh'])
    .exec(101, ['true'], { ppid: 100 })
    .exit(101)
    .exit(100)
    .exec(200, ['cat', 'missing'])
    .log(200, 'cat: missing: No such file or directory\n')
    .exit(200, { code: 1 });
  const state = createInsightsState();
  stepInsights(state, t.events, t.now);
  stepInsights(state, [], t.now + 3600e9);
  assert.deepEqual(
    [...state.processes.values()].map((p) => p.pid),
    [200],
  );
});
