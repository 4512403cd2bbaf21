import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../test/trace-builder.ts';
import { renderReport } from './report.ts';
import { prepareReports } from './report-input.ts';

function failingRun(extraLines: number) {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['bash', 'align.sh'])
    .at(0.1)
    .exec(101, ['samtools', 'sort', '-o', 'out.bam', 'in.bam'], { ppid: 100 });
  for (let i = 0; i < extraLines; i++) t.log(101, `[M::bam_sort] processed block ${i} <ok>\n`);
  t.log(
    101,
    '[E::hts_open_format] Failed to open file "in.bam" : No such file or directory\nsamtools sort: can\'t open "in.bam": No such file or directory\n',
  )
    .at(1)
    .exit(101, { code: 1 })
    .exit(100, { code: 1 });
  return t;
}

test('the report of the first failure: root cause, next steps, error entries, the log with the error lines marked', () => {
  const { reports } = prepareReports(failingRun(3).events);
  assert.equal(reports.length, 1);
  const r = reports[0]!;
  const { markdown, html } = renderReport({ ...r, generatedAt: '2026-01-01T00:00:00Z', tracePath: 'trace.jsonl' });
  assert.match(markdown, /^# Failure report: samtools sort \(pid 101\)/);
  assert.match(markdown, /Root cause: could not find an input \(`missing_input`\)/);
  assert.match(markdown, /## Next steps\n\n1\. Check that/);
  assert.match(markdown, /\| 101 \| stderr \| 4 \| `\[E::hts_open_format\]/);
  assert.match(markdown, />> +4 {2}\[E::hts_open_format\]/);
  assert.match(markdown, / {2} +1 {2}\[M::bam_sort\] processed block 0 <ok>/);
  assert.match(html, /<span id="l-101-stderr-4" class="err">/);
  assert.ok(html.includes('processed block 0 &lt;ok&gt;'));
  assert.ok(!html.includes('<ok>'));
});

test('a long log is cut to its head, its tail and the context of each marked line', () => {
  const { reports } = prepareReports(failingRun(2000).events);
  const { markdown } = renderReport({ ...reports[0]!, generatedAt: 'now' });
  const logPart = markdown.slice(markdown.indexOf('## Log'));
  assert.match(logPart, /\.\.\. \d+ lines \.\.\./);
  assert.ok(logPart.split('\n').length < 250);
  assert.match(logPart, />> +2001 {2}\[E::hts_open_format\]/);
});

test('--task picks a process; --all every failure; none when nothing failed', () => {
  const t = failingRun(0);
  assert.equal(prepareReports(t.events, { pid: 101 }).reports[0]?.packet.process.pid, 101);
  assert.equal(prepareReports(t.events, { pid: 4242 }).reports.length, 0);
  assert.equal(prepareReports(t.events, { all: true }).reports.length, 1);
  const clean = traceBuilder();
  clean.at(0).exec(1, ['true']).exit(1);
  assert.equal(prepareReports(clean.events).reports.length, 0);
});
