// The core on traces recorded by `tracer run` on a real kernel, in both capture modes
// (fixtures/README.md): the same script, so the same shape where both modes can see it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findAnomalies } from './anomalies.ts';
import { fixtureEvents, fixtureTable } from './fixture.test-support.ts';
import { groupRun } from './grouping.ts';
import { renderSummary } from './summary.ts';

test('both capture modes write the same core event types for the same script', () => {
  const types = (name: string) => new Set(fixtureEvents(name).map((e) => e.type));
  const proc = types('proc-script.jsonl');
  const bpf = types('bpf-script.jsonl');
  for (const t of proc) assert.ok(bpf.has(t), `${t} in both`);
  for (const t of ['trace.start', 'host.info', 'process.exec', 'process.exit', 'agent.stats'] as const)
    assert.ok(proc.has(t));
  assert.ok(bpf.has('log.chunk'), 'only BPF captures output');
});

test('BPF trace: every step, the SIGKILL, the failing python with its stderr, the background sleep', () => {
  const table = fixtureTable('bpf-script.jsonl');
  const run = groupRun(table);
  assert.equal(run.name, 'script');
  assert.deepEqual(
    run.steps.map((s) => s.label),
    ['sleep', 'gzip', 'python3 -c', 'yes', 'head', 'sleep', 'sleep'],
  );
  const text = renderSummary(table);
  assert.match(text, /^tracer: script -- exit 1 after /);
  assert.match(text, /^ {2}SIGKILL +sleep +pid \d+ +step 6/m);
  assert.match(text, /^ {2}exit 2 +python3 -c +pid \d+ +step 3/m);
  assert.match(text, /^ {6}\| ValueError: bad header in sample\.fq$/m);
  assert.match(text, /step 4 yes .* SIGPIPE$/m);
  const anomalies = findAnomalies(table);
  assert.deepEqual(
    anomalies.map((a) => [a.kind, a.argv.join(' ')]),
    [
      ['running', 'sleep 3'],
      ['killed', 'sh -c sleep 0.3; kill -KILL $$'],
    ],
  );
  assert.deepEqual(
    findAnomalies(table, { all: true }).map((a) => a.kind),
    ['running', 'failed', 'killed', 'failed'],
  );
});

test('/proc trace: sampled, the steps it could see, unknown exits marked, the root status known', () => {
  const table = fixtureTable('proc-script.jsonl');
  assert.equal(table.meta?.mode, 'proc');
  assert.equal(table.meta?.fallbackReason, 'TRACER_AGENT_MODE=proc');
  const run = groupRun(table);
  assert.ok(run.steps.length >= 2);
  assert.deepEqual(run.root?.exit?.exitCode, 1);
  assert.notEqual(run.root?.exit?.exitCodeUnknown, true);
  assert.ok([...table.nodes.values()].every((n) => n.sampled));
  const text = renderSummary(table);
  assert.match(text, /capture: \/proc sampling \(TRACER_AGENT_MODE=proc\)/);
  assert.match(text, /Sampled from \/proc/);
  assert.match(text, / \? *$/m, 'unknown exit statuses are shown as ?');
  assert.deepEqual(
    findAnomalies(table, { all: true }).map((a) => [a.kind, a.pid]),
    [['failed', table.meta?.rootPid]],
  );
});
