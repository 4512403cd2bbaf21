import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';
import { createInsightsState, stepInsights } from '../engine.ts';

test('a segfault is reported as soon as the process dies, even while its parent runs', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['bash', 'run.sh'])
    .at(0.1)
    .exec(101, ['./segv'], { ppid: 100 })
    .at(0.2)
    .exit(101, { signal: 11, coreDumped: true });
  const { insights } = stepInsights(createInsightsState(), t.events, t.now);
  assert.deepEqual(
    insights.map((i) => [i.kind, i.pid, i.category]),
    [['signal', 101, 'segfault']],
  );
  assert.match(insights[0]!.summary, /SIGSEGV.*core dumped/);
});

test('the shell printing "Segmentation fault" and exiting 139 refines the same insight', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['bash', 'run.sh'])
    .at(0.1)
    .exec(101, ['./segv'], { ppid: 100 })
    .at(0.2)
    .exit(101, { signal: 11, coreDumped: true })
    .log(100, 'run.sh: line 3:   101 Segmentation fault      (core dumped) ./segv\n')
    .exit(100, { code: 139 });
  const insights = analyzeTrace(t.events);
  assert.equal(insights.length, 1);
  assert.equal(insights[0]!.pid, 101);
  assert.ok(insights[0]!.errorEntries?.some((e) => e.pid === 100 && e.line === 1));
  assert.deepEqual(insights[0]!.errorLines, []);
});

test('abort after a glibc memory-corruption message', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(101, ['./assembler', 'reads.fq'])
    .log(101, 'free(): double free detected in tcache 2\n')
    .exit(101, { signal: 6, coreDumped: true });
  const [i] = analyzeTrace(t.events);
  assert.equal(i?.kind, 'signal');
  assert.equal(i!.category, 'segfault');
  assert.deepEqual(i!.errorLines, [1]);
});

test('SIGPIPE in a pipeline whose reader stopped early is no failure', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['sh', '-c', 'zcat x.gz | head -1'])
    .exec(101, ['zcat', 'x.gz'], { ppid: 100 })
    .exec(102, ['head', '-1'], { ppid: 100 })
    .at(0.1)
    .exit(102)
    .exit(101, { signal: 13 })
    .exit(100);
  assert.deepEqual(analyzeTrace(t.events), []);
});
