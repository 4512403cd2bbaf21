import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../test/trace-builder.ts';
import { analyzeTrace } from './analyze-trace.ts';
import { renderInsightsSummary } from './summary.ts';

test('the run summary: one line per insight, then cause, lines and the first next step of a failure', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(101, ['cat', '/data/x.fq'])
    .log(101, 'cat: /data/x.fq: No such file or directory\n')
    .exit(101, { code: 1 });
  const text = renderInsightsSummary(analyzeTrace(t.events));
  assert.match(text, /^Insights \(1\)\n {2}error {4}nonzero_exit {2}cat \(pid 101\) failed with exit 1/);
  assert.match(text, /cause: missing_input \(0\.\d\d\) · stderr line 1 · next: Check that \/data\/x\.fq exists/);
  assert.equal(renderInsightsSummary([]), 'Insights: none');
});
