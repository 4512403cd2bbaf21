// processBatch against a recording set of actions: the decisions (commit, dead-letter,
// retry, isolate) without a broker. The broker-side behaviour is in test/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@tracer/log';
import { perMessage } from './per-message.ts';
import { PermanentError } from './permanent-error.ts';
import { type BatchActions, processBatch } from './process-batch.ts';
import type { BatchHandler, ConsumedMessage, ConsumerStats } from './types.ts';

const log = createLogger('bus-test');
log.level = 'silent';

function messages(n: number): ConsumedMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    topic: 't',
    partition: 0,
    offset: String(100 + i),
    key: null,
    value: Buffer.from(`m${i}`),
    headers: {},
    timestamp: '0',
  }));
}

function recorder(opts: { runningFor?: number } = {}) {
  const events: string[] = [];
  let checks = 0;
  const actions: BatchActions = {
    isRunning: () => opts.runningFor === undefined || checks++ < opts.runningFor,
    heartbeat: async () => {},
    deadLetter: async (rejects) => {
      events.push(...rejects.map((r) => `dlq ${r.message.offset} ${r.reason}`));
    },
    commit: async (last) => {
      events.push(`commit ${last.offset}`);
    },
    sleep: async (ms) => {
      events.push(`sleep ${ms}`);
    },
  };
  return { events, actions };
}

async function run(handler: BatchHandler, n: number, actions: BatchActions): Promise<ConsumerStats> {
  const stats = { batches: 0, committed: 0, deadLettered: 0, retries: 0 };
  await processBatch({
    topic: 't',
    partition: 0,
    messages: messages(n),
    handler,
    actions,
    retry: { initialDelayMs: 10, maxDelayMs: 40, factor: 2, jitter: 0 },
    stats,
    signal: new AbortController().signal,
    log,
  });
  return stats;
}

test('a successful batch commits once, after the handler', async () => {
  const { events, actions } = recorder();
  const stats = await run(
    async () => {
      events.push('handled');
    },
    3,
    actions,
  );
  assert.deepEqual(events, ['handled', 'commit 102']);
  assert.deepEqual(stats, { batches: 1, committed: 3, deadLettered: 0, retries: 0 });
});

test('rejects are dead-lettered before the commit', async () => {
  const { events, actions } = recorder();
  const stats = await run(async (ms) => ({ rejects: [{ message: ms[1]!, reason: 'bad' }] }), 3, actions);
  assert.deepEqual(events, ['dlq 101 bad', 'commit 102']);
  assert.equal(stats.deadLettered, 1);
});

test('a retryable error retries the same messages with backoff and commits only after success', async () => {
  const { events, actions } = recorder();
  let calls = 0;
  const stats = await run(
    async (ms) => {
      calls++;
      events.push(`handle ${ms.length}`);
      if (calls < 4) throw new Error('database unavailable');
    },
    2,
    actions,
  );
  assert.deepEqual(events, [
    'handle 2',
    'sleep 10',
    'handle 2',
    'sleep 20',
    'handle 2',
    'sleep 40',
    'handle 2',
    'commit 101',
  ]);
  assert.equal(stats.retries, 3);
});

test('a long backoff is slept in slices with a heartbeat before each', async () => {
  const { events, actions } = recorder();
  actions.heartbeat = async () => {
    events.push('heartbeat');
  };
  let calls = 0;
  const stats = { batches: 0, committed: 0, deadLettered: 0, retries: 0 };
  await processBatch({
    topic: 't',
    partition: 0,
    messages: messages(1),
    handler: async () => {
      if (calls++ === 0) throw new Error('down');
    },
    actions,
    retry: { initialDelayMs: 2500, maxDelayMs: 2500, factor: 1, jitter: 0 },
    stats,
    signal: new AbortController().signal,
    log,
  });
  assert.deepEqual(events, [
    'heartbeat',
    'sleep 1000',
    'heartbeat',
    'sleep 1000',
    'heartbeat',
    'sleep 500',
    'commit 100',
  ]);
});

test('stopping during retries leaves the batch uncommitted', async () => {
  const { events, actions } = recorder({ runningFor: 2 });
  await run(
    async () => {
      throw new Error('still down');
    },
    2,
    actions,
  );
  assert.ok(!events.some((e) => e.startsWith('commit')), events.join());
});

test('a PermanentError is isolated to its message by splitting; the rest still commit in order', async () => {
  const { events, actions } = recorder();
  const handled: string[] = [];
  const stats = await run(
    async (ms) => {
      if (ms.some((m) => m.offset === '105')) throw new PermanentError('offset 105 is poison');
      handled.push(...ms.map((m) => m.offset));
    },
    8,
    actions,
  );
  assert.deepEqual(handled, ['100', '101', '102', '103', '104', '106', '107']);
  const commits = events.filter((e) => e.startsWith('commit')).map((e) => Number(e.split(' ')[1]));
  assert.deepEqual(
    commits,
    [...commits].sort((a, b) => a - b),
    'commits move forward only',
  );
  assert.equal(commits.at(-1), 107);
  assert.ok(events.includes('dlq 105 offset 105 is poison'));
  assert.equal(stats.deadLettered, 1);
  assert.equal(stats.committed, 8);
});

test('perMessage turns a PermanentError into a reject of that message only', async () => {
  const { events, actions } = recorder();
  await run(
    perMessage(async (m) => {
      if (m.value?.toString() === 'm1') throw new PermanentError('m1 is invalid');
    }),
    3,
    actions,
  );
  assert.deepEqual(events, ['dlq 101 m1 is invalid', 'commit 102']);
});
