// closeOnSignals in a real process: a close that never ends (kafkajs leaving a rebalancing
// group) still ends the process, with status 1 and the reason logged; a clean close exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';

const shutdown = new URL('../src/shutdown.ts', import.meta.url).href;

async function stopWithSigterm(close: string, leftOpen = true) {
  const script = `import { closeOnSignals } from ${JSON.stringify(shutdown)};
    const open = setInterval(() => {}, 1000); // what a hung client leaves running
    closeOnSignals({ close: () => ${close} }, { graceMs: 300, after: async () => ${leftOpen} || clearInterval(open) });
    console.log('ready');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  while (!out.includes('ready')) await once(child.stdout, 'data');
  const t0 = performance.now();
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, ms: performance.now() - t0 };
}

test('a close that never finishes: the process exits 1 after the grace period, saying why', async () => {
  const r = await stopWithSigterm('new Promise(() => {})');
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /shutdown did not finish in time/);
  assert.ok(r.ms >= 250, `exited after ${r.ms} ms`);
});

test('a clean close: exit 0 at once, not after the grace period', async () => {
  const r = await stopWithSigterm('Promise.resolve()', false);
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /did not finish/);
});

test('a close that finishes but leaves a handle open: still bounded', async () => {
  const r = await stopWithSigterm('Promise.resolve()');
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /shutdown did not finish in time/);
});
