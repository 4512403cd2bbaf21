import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';
import { createInsightsState, stepInsights } from '../engine.ts';

function ddTrace() {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['sh', '-c', 'dd if=/dev/zero of=/mnt/small/x bs=1M count=64'])
    .at(0.1)
    .exec(101, ['dd', 'if=/dev/zero', 'of=/mnt/small/x', 'bs=1M', 'count=64'], { ppid: 100 })
    .at(0.5)
    .syscallError(101, 'write', 'ENOSPC', { path: '/mnt/small/x', count: 1 });
  return t;
}

test('ENOSPC from the kernel opens disk_full at once, while the process still runs', () => {
  const t = ddTrace();
  const state = createInsightsState();
  const { insights } = stepInsights(state, t.events, t.now);
  assert.deepEqual(
    insights.map((i) => [i.kind, i.pid, i.category]),
    [['disk_full', 101, 'disk_full']],
  );
  assert.match(insights[0]!.summary, /failed call write ENOSPC \/mnt\/small\/x/);
});

test('the failure that follows updates the same insight with the exit and the error line', () => {
  const t = ddTrace();
  t.at(0.6)
    .log(101, "dd: error writing '/mnt/small/x': No space left on device\n8+0 records in\n7+0 records out\n")
    .exit(101, { code: 1 })
    .exit(100, { code: 1 });
  const insights = analyzeTrace(t.events);
  assert.equal(insights.length, 1);
  const i = insights[0]!;
  assert.equal(i.kind, 'disk_full');
  assert.deepEqual(i.errorLines, [1]);
  assert.equal(i.evidence.exitCode, 1);
  assert.ok(i.nextSteps?.some((s) => s.includes('/mnt/small/x')));
});

test('the log line alone is enough', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(101, ['samtools', 'sort', '-o', 'out.bam', 'in.bam'])
    .at(1)
    .log(
      101,
      '[E::bgzf_flush] File write failed (wrong size)\nsamtools sort: failed to write: No space left on device\n',
    )
    .exit(101, { code: 1 });
  const [i, ...rest] = analyzeTrace(t.events);
  assert.equal(rest.length, 0);
  assert.equal(i!.kind, 'disk_full');
  assert.deepEqual(i!.errorLines, [1, 2]);
});
