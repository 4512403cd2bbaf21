import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';

const config = { defaults: { noProgress: { afterNs: 10e9 } } };

function stalled(seconds: number) {
  const t = traceBuilder();
  t.at(0).exec(100, ['sh', '-c', 'cat /tmp/fifo']).at(0.05).exec(101, ['cat', '/tmp/fifo'], { ppid: 100 });
  for (let s = 1; s <= seconds; s++) t.at(s).sample(100, { cpuS: 0.002 }).sample(101, { cpuS: 0.001, state: 'S' });
  return t;
}

test('a reader blocked on a FIFO: one no_progress insight, on the reader, not on the waiting shell', () => {
  const insights = analyzeTrace(stalled(15).events, { config });
  assert.deepEqual(
    insights.map((i) => [i.kind, i.pid]),
    [['no_progress', 101]],
  );
  assert.match(insights[0]!.summary, /no progress for 1\d\.\d s|no progress for 1\d s/);
  assert.equal(insights[0]!.state, 'open');
});

test('below the threshold nothing is said', () => {
  assert.deepEqual(analyzeTrace(stalled(8).events, { config }), []);
});

test('progress resuming resolves the same insight', () => {
  const t = stalled(15);
  t.at(16).sample(101, { cpuS: 2, readBytes: 4096 }).at(17).sample(101, { cpuS: 3, readBytes: 8192 });
  const insights = analyzeTrace(t.events, { config });
  assert.equal(insights.length, 1);
  assert.equal(insights[0]!.state, 'resolved');
  assert.ok(insights[0]!.endTs! > insights[0]!.startTs);
});

test('output counts as progress, and sleep is never stalled', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['python', 'poll.py']).exec(102, ['sleep', '60']);
  for (let s = 1; s <= 20; s++)
    t.at(s).sample(101, { cpuS: 0.01 }).sample(102, {}).log(101, `waiting ${s}\n`, 'stdout');
  assert.deepEqual(analyzeTrace(t.events, { config }), []);
});

test('the reader of a pipe whose writer is busy is waiting, not stalled', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['sh', '-c', 'bwa mem ref.fa r.fq | samtools sort -o out.bam'])
    .exec(101, ['bwa', 'mem', 'ref.fa', 'r.fq'], { ppid: 100 })
    .exec(102, ['samtools', 'sort', '-o', 'out.bam'], { ppid: 100 });
  for (let s = 1; s <= 30; s++)
    t.at(s)
      .sample(101, { cpuS: s * 0.95 })
      .sample(102, { cpuS: 0.01 });
  assert.deepEqual(analyzeTrace(t.events, { config }), []);
});
