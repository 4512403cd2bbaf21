import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findAnomalies, renderAnomalies } from './anomalies.ts';
import { fixtureTable } from './fixture.test-support.ts';

test('by default: still running, then killed or cancelled, most recent first', () => {
  const t = fixtureTable('bpf-pipeline-failures.jsonl');
  const found = findAnomalies(t);
  assert.deepEqual(
    found.map((a) => [a.kind, a.pid, a.tool, a.detail]),
    [
      ['running', 1006, 'sleep', 'state S'],
      ['killed', 1002, 'samtools sort', 'OOM kill (memcg)'],
    ],
  );
  assert.equal(found[0]!.durationNs, 700_000_000, 'until the trace ended');
});

test('with all: failed and timed-out ones too; SIGPIPE and clean exits never', () => {
  const t = fixtureTable('bpf-pipeline-failures.jsonl');
  const found = findAnomalies(t, { all: true });
  assert.deepEqual(
    found.map((a) => [a.kind, a.pid]),
    [
      ['running', 1006],
      ['failed', 1000],
      ['timed-out', 1004],
      ['timed-out', 1005],
      ['failed', 1003],
      ['killed', 1002],
    ],
  );
  const text = renderAnomalies(found, t, { all: true });
  assert.match(text, /^Running when the trace ended \(1\)\n {2}\+4\.50s +pid 1006 +sleep +700ms +state S +sleep 100$/m);
  assert.match(text, /^Timed out \(2\)$/m);
  assert.match(text, /SIGTERM from timeout/);
});

test('says so when nothing is anomalous', () => {
  const t = fixtureTable('bpf-pipeline-failures.jsonl');
  assert.equal(renderAnomalies([], t), 'No anomalies among 10 processes (--all adds failed and timed-out ones).');
});
