import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@tracer/log';
import { serveConsumer } from './consumer-service.ts';
import { createRegistry } from './metrics.ts';

test('a consumer service: 503 until the group is joined, then 200; closes once, in order', async () => {
  const steps: string[] = [];
  let join!: () => void;
  const ready = new Promise<void>((resolve) => (join = resolve));
  const service = await serveConsumer({
    name: 'test service',
    log: createLogger('service-test'),
    host: '127.0.0.1',
    port: 0,
    registry: createRegistry('test_'),
    groupId: 'g',
    consumer: { runner: { ready, stats: () => ({}) }, stop: async () => void steps.push('consumer') },
    bus: { close: async () => void steps.push('bus') },
    pool: { query: async () => ({}), end: async () => void steps.push('pool') },
  });
  const notReady = await fetch(`${service.url}/readyz`);
  assert.equal(notReady.status, 503);
  assert.deepEqual(await notReady.json(), { ready: false, checks: { kafka: 'joining group', postgres: 'ok' } });
  join();
  await ready;
  assert.equal((await fetch(`${service.url}/readyz`)).status, 200);
  await Promise.all([service.close(), service.close()]);
  assert.deepEqual(steps, ['consumer', 'bus', 'pool']);
  await assert.rejects(fetch(`${service.url}/healthz`));
});
