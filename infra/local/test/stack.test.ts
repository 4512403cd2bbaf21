// The running stack, as `tracer test` started it (or found it): real servers, real clients.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { createStack, describeKafka, queryPostgres, stackAddresses } from '../src/index.ts';

const addresses = stackAddresses();

test('status reports every server running at its address', async () => {
  const rows = await createStack().status();
  assert.deepEqual(
    rows.map((r) => [r.server.name, r.status.state, r.server.address]),
    [
      ['kafka', 'running', `127.0.0.1:${addresses.kafkaPort}`],
      ['postgres', 'running', `127.0.0.1:${addresses.postgresPort}`],
      ['redis', 'running', `127.0.0.1:${addresses.redisPort}`],
    ],
  );
});

test('up is a no-op while everything runs', async () => {
  const t0 = Date.now();
  const { started } = await createStack().up();
  assert.deepEqual(started, []);
  assert.ok(Date.now() - t0 < 5000, `a no-op up took ${Date.now() - t0} ms`);
});

test('Redis answers through ioredis, configured for BullMQ', async (t) => {
  const redis = new Redis(addresses.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  t.after(() => redis.quit());
  await redis.connect();
  assert.equal(await redis.ping(), 'PONG');
  const key = `test:infra:${process.pid}:${Date.now()}`;
  await redis.set(key, 'v', 'EX', 60);
  assert.equal(await redis.get(key), 'v');
  assert.deepEqual(await redis.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
  assert.deepEqual(await redis.config('GET', 'appendonly'), ['appendonly', 'yes']);
});

test('PostgreSQL serves the tracer database to the tracer role', async () => {
  const res = await queryPostgres(addresses.databaseUrl, 'select current_database() as db, current_user as who');
  assert.deepEqual(res.rows, [{ db: 'tracer', who: 'tracer' }]);
});

test('Kafka answers an admin call', async () => {
  assert.equal(await describeKafka(addresses.kafkaPort), true);
});
