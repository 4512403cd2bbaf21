// `tracer run` end to end: the insights and the attribution tree of a failing command land in
// the trace (before the closing agent.stats) and in the printed summary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const REPO = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'run-analysis-'));
after(() => process.env.KEEP || rmSync(dir, { recursive: true, force: true }));

test('a silent missing input is named in the trace and the summary, with its task', () => {
  const trace = join(dir, 'missing.jsonl');
  const r = spawnSync(
    join(REPO, 'tracer'),
    ['run', '--pipeline', 'demo', '--out', trace, '--', 'sh', '-c', 'true; cat ./no-such-input.fq; exit 4'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, TRACER_LOG_LEVEL: 'warn' } },
  );
  assert.equal(r.status, 4, r.stderr);
  const events = readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(events.at(-1)?.type, 'agent.stats', 'agent.stats closes the trace');
  const catPid = events.find((e) => e.type === 'process.exec' && (e.argv as string[])[0] === 'cat')?.pid;
  assert.ok(catPid, 'cat was traced');
  const insights = events.filter((e) => e.type === 'insight');
  const onCat = insights.filter((i) => i.pid === catPid);
  assert.equal(onCat.length, 1, JSON.stringify(insights, null, 1));
  assert.equal(onCat[0]!.kind, 'nonzero_exit');
  assert.equal(onCat[0]!.category, 'missing_input');
  assert.deepEqual(onCat[0]!.errorLines, [1]);
  assert.ok(onCat[0]!.runId, 'the insight names its run');
  assert.match(r.stderr, /Insights \(\d+\)/);
  assert.match(r.stderr, /missing_input/);
  assert.match(r.stderr, /no-such-input\.fq/);
  assert.match(r.stderr, /script run demo/);
});
