// slow_step without a server: each `tracer run` leaves its step durations in the data folder,
// and a later run of the same pipeline that takes 5x longer is called slow, by how much.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { mergeStepHistory, readStepHistory, STEP_HISTORY_KEPT, stepHistoryPath } from '../src/step-history.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'step-history-'));
after(() => process.env.KEEP || rmSync(dir, { recursive: true, force: true }));

test('merging keeps the newest durations per key; a damaged file reads as empty, with a warning', () => {
  const many = Array.from({ length: STEP_HISTORY_KEPT + 5 }, (_, i) => i + 1);
  const merged = mergeStepHistory({ 'p :: a': [1, 2] }, { 'p :: a': many, 'p :: b': [7] });
  assert.equal(merged['p :: a']?.length, STEP_HISTORY_KEPT);
  assert.equal(merged['p :: a']?.at(-1), STEP_HISTORY_KEPT + 5);
  assert.deepEqual(merged['p :: b'], [7]);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"p :: a": [1, 2');
  const warnings: string[] = [];
  assert.deepEqual(
    readStepHistory(bad, (m) => warnings.push(m)),
    {},
  );
  assert.match(warnings[0] ?? '', /ignoring the step history/);
  assert.deepEqual(readStepHistory(join(dir, 'absent.json')), {});
});

test('the sixth run of a pipeline, 5x slower than the five before, gets a slow_step insight', () => {
  const data = join(dir, 'data');
  const run = (seconds: number) => {
    const trace = join(dir, `run-${seconds}-${Date.now()}.jsonl`);
    const r = spawnSync(
      join(REPO, 'tracer'),
      ['run', '--pipeline', 'nightly', '--out', trace, '--', 'sh', '-c', `sleep ${seconds}; true`],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, TRACER_DATA_DIR: data, TRACER_LOG_LEVEL: 'warn' } },
    );
    assert.equal(r.status, 0, r.stderr);
    const insights = readFileSync(trace, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.type === 'insight');
    return { insights, stdout: r.stdout };
  };
  for (let i = 0; i < 5; i++) assert.deepEqual(run(0.2).insights, [], 'usual runs are not slow');
  const history = readStepHistory(stepHistoryPath(data));
  const sleepKey = Object.keys(history).find((k) => k.startsWith('nightly :: ') && k.includes('sleep'));
  assert.ok(sleepKey, `the sleep step has a history: ${JSON.stringify(Object.keys(history))}`);
  assert.equal(history[sleepKey]?.length, 5);

  const slow = run(1.2);
  const found = slow.insights.filter((i) => i.kind === 'slow_step');
  assert.equal(found.length, 1, JSON.stringify(slow.insights));
  const evidence = found[0]?.evidence as { ratio: number; historyRuns: number };
  assert.equal(evidence.historyRuns, 5);
  assert.ok(evidence.ratio > 4 && evidence.ratio < 8, `ratio ${evidence.ratio}`);
  assert.match(slow.stdout + String(found[0]?.summary), /slow|median/i);
});
