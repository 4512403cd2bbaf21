import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/service-main.ts', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [fixture], { env: { ...process.env, ...env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit').then(([code]) => ({ code, stdout, stderr }));
  return { child, exited, stdout: () => stdout };
}

test('a bad variable: exit 2, the key named on stderr', async () => {
  const { code, stderr } = await run({ PORT: 'eighty' }).exited;
  assert.equal(code, 2);
  assert.match(stderr, /^tracer-test: invalid configuration:\n {2}PORT="eighty": expected an integer/);
});

test("a start-up failure that is the operator's: exit 2 with its message; others are thrown", async () => {
  const named = await run({ BROKEN_AT_START: 'operator' }).exited;
  assert.equal(named.code, 2);
  assert.match(named.stderr, /tracer-test: BROKEN_AT_START: fix it/);
  const other = await run({ BROKEN_AT_START: 'bug' }).exited;
  assert.equal(other.code, 1);
  assert.match(other.stderr, /Error: bug/);
});

test('SIGTERM closes what was started and the process ends by itself', async () => {
  const proc = run({});
  while (!proc.stdout().includes('started')) await new Promise((r) => setTimeout(r, 20));
  proc.child.kill('SIGTERM');
  const { code, stdout } = await proc.exited;
  assert.equal(code, 0);
  assert.match(stdout, /closed/);
});
