import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consumerReadiness, type Readiness, startHealthServer } from './health-server.ts';
import { createRegistry, metricsIn } from './metrics.ts';

test('healthz 200, readyz 200 or 503 with the checks, metrics, 404', async () => {
  const registry = createRegistry('test_');
  metricsIn(registry).counter('test_things_total', 'Things', ['outcome']).inc({ outcome: 'ok' });
  let readiness: Readiness = { ready: false, checks: { kafka: 'joining group' } };
  const server = await startHealthServer({ host: '127.0.0.1', port: 0, registry, readiness: async () => readiness });
  try {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true });
    const notReady = await fetch(`${server.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), readiness);
    readiness = { ready: true, checks: { kafka: 'ok' } };
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /test_things_total\{outcome="ok"\} 1/);
    assert.match(metrics, /test_process_cpu_seconds_total/);
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  } finally {
    await server.close();
  }
});

test('a failing readiness check answers 500 with its message', async () => {
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry: createRegistry('test_'),
    readiness: async () => {
      throw new Error('boom');
    },
  });
  try {
    const res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'boom');
  } finally {
    await server.close();
  }
});

test('consumer readiness: joined the group and the database answers', async () => {
  let joined!: () => void;
  let database = { query: async (_sql: string): Promise<unknown> => ({}) };
  const readiness = consumerReadiness(new Promise<void>((r) => (joined = r)), {
    query: (sql) => database.query(sql),
  });
  assert.deepEqual(await readiness(), { ready: false, checks: { kafka: 'joining group', postgres: 'ok' } });
  joined();
  await Promise.resolve();
  assert.deepEqual(await readiness(), { ready: true, checks: { kafka: 'ok', postgres: 'ok' } });
  database = {
    query: async () => {
      throw new Error('connection refused');
    },
  };
  assert.deepEqual(await readiness(), { ready: false, checks: { kafka: 'ok', postgres: 'connection refused' } });
});
