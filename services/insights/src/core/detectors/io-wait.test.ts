import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';

test('kernel block-I/O delay above the share and the absolute threshold gives io_wait', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['dd', 'if=/dev/zero', 'of=/data/x', 'oflag=direct']);
  for (let s = 1; s <= 30; s++)
    t.at(s).sample(101, { cpuS: s * 0.1, writeBytes: s * 10e6, ioWaitS: s * 0.8, state: 'D' });
  t.at(30.5).exit(101, { ioWaitS: 24.4 });
  const insights = analyzeTrace(t.events);
  assert.deepEqual(
    insights.map((i) => [i.kind, i.pid]),
    [['io_wait', 101]],
  );
  const i = insights[0]!;
  assert.equal(i.evidence.source, 'kernel block-I/O delay');
  assert.ok((i.evidence.share as number) > 0.7);
  assert.match(i.summary, /blocked on disk I\/O/);
});

test('without kernel delay, time in state D between samples is the estimate', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['sync']);
  for (let s = 1; s <= 20; s++) t.at(s).sample(101, { cpuS: 0.01 * s, writeBytes: s, state: s % 4 === 0 ? 'S' : 'D' });
  const insights = analyzeTrace(t.events);
  assert.equal(insights[0]?.kind, 'io_wait');
  assert.equal(insights[0]!.evidence.source, 'samples in state D');
});

test('a CPU-bound process is not in I/O wait', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['bwa', 'mem']);
  for (let s = 1; s <= 30; s++) t.at(s).sample(101, { cpuS: s * 0.99, ioWaitS: s * 0.01, state: 'R' });
  assert.deepEqual(analyzeTrace(t.events), []);
});

test('the share threshold is a per-step setting', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['samtools', 'sort', 'x.bam']);
  for (let s = 1; s <= 40; s++) t.at(s).sample(101, { cpuS: s * 0.7, ioWaitS: s * 0.3, state: 'R' });
  assert.equal(analyzeTrace(t.events).length, 1);
  assert.equal(
    analyzeTrace(t.events, { config: { steps: { 'samtools sort': { ioWait: { minShare: 0.5 } } } } }).length,
    0,
  );
});
