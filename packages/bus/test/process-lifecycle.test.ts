// A consumer process that dies mid-batch, and one stopped by SIGTERM mid-batch: what the
// group's committed offsets and the next member see afterwards.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import type { Bus } from '../src/index.ts';
import { eventually, fastTuning, offsetsOf, testBus, uniqueName } from './helpers.ts';

interface Step {
  step: string;
  offsets?: string[];
}

function startConsumer(env: Record<string, string>) {
  const child = spawn(process.execPath, [new URL('./fixtures/consumer-process.ts', import.meta.url).pathname], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const steps: Step[] = [];
  const waiters: Array<{ match: (s: Step) => boolean; resolve: (s: Step) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const step = JSON.parse(line) as Step;
    steps.push(step);
    for (const w of waiters.filter((w) => w.match(step))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(step);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const next = (match: (s: Step) => boolean, timeoutMs = 20_000) =>
    new Promise<Step>((resolve, reject) => {
      const found = steps.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(
        () => reject(new Error(`child never reported the awaited step; saw ${JSON.stringify(steps)}`)),
        timeoutMs,
      );
      waiters.push({
        match,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
      });
    });
  return { child, steps, exited, next };
}

describe('consumer process lifecycle', { concurrency: true }, () => {
  let bus: Bus;
  const created: string[] = [];
  const children: ChildProcess[] = [];
  before(() => {
    bus = testBus();
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await bus.deleteTopics(created);
    await bus.close();
  });

  test('a consumer that crashes mid-batch: the next member gets the uncommitted messages, not the committed ones', async () => {
    const topic = uniqueName('crash');
    const groupId = uniqueName('crash');
    created.push(topic);
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);
    const producer = await bus.producer();
    await producer.send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ value: `early-${i}` })),
    );

    const c = startConsumer({ TEST_TOPIC: topic, TEST_GROUP: groupId, TEST_MODE: 'hang' });
    children.push(c.child);
    await c.next((s) => s.step === 'handled');
    await eventually(
      'first batch committed',
      async () => offsetsOf(await bus.committedOffsets(groupId, topic))[0] === '10',
    );
    await producer.send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ value: `late-${i}` })),
    );
    await c.next((s) => s.step === 'batch' && s.offsets?.[0] === '10');
    c.child.kill('SIGKILL');
    await c.exited;

    const seen: string[] = [];
    const runner = await bus.consume({
      groupId,
      topics: [topic],
      tuning: fastTuning,
      handler: async (ms) => {
        seen.push(...ms.map((m) => m.value!.toString()));
      },
    });
    // The dead member holds its partition until its session times out (6 s here).
    await eventually('redelivery', () => seen.length >= 10, 30_000);
    await runner.stop();
    assert.deepEqual(
      seen,
      Array.from({ length: 10 }, (_, i) => `late-${i}`),
    );
    assert.deepEqual(offsetsOf(await bus.committedOffsets(groupId, topic)), ['20']);
    await producer.close();
  });

  test('SIGTERM mid-batch: the batch finishes and commits, then the process exits by itself', async () => {
    const topic = uniqueName('sigterm');
    const groupId = uniqueName('sigterm');
    created.push(topic);
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);
    const producer = await bus.producer();
    await producer.send(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ value: `m${i}` })),
    );

    const c = startConsumer({ TEST_TOPIC: topic, TEST_GROUP: groupId, TEST_MODE: 'slow', TEST_SLOW_MS: '700' });
    children.push(c.child);
    await c.next((s) => s.step === 'batch');
    const signalledAt = Date.now();
    c.child.kill('SIGTERM');
    const { code, signal } = await c.exited;
    const exitMs = Date.now() - signalledAt;

    assert.equal(signal, null, 'not killed by the signal: it shut down');
    assert.equal(code, 0);
    assert.deepEqual(
      c.steps.filter((s) => s.step !== 'ready').map((s) => s.step),
      ['batch', 'handled', 'closed'],
      'the batch in flight at SIGTERM finished before the bus closed',
    );
    assert.ok(exitMs < 5000, `exited ${exitMs} ms after SIGTERM`);
    assert.deepEqual(offsetsOf(await bus.committedOffsets(groupId, topic)), ['5'], 'the in-flight batch committed');
    await producer.close();
  });
});
