// The gateway against real Kafka, PostgreSQL and Redis, with the raw consumer behind it:
// what gets in, under which tenant, and what is refused with which status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeBatch, goldenEvents } from '@tracer/events';
import { Redis } from 'ioredis';
import { createApiKey, revokeApiKey } from '../src/adapters/postgres-keys.ts';
import type { RunningConsumer } from '../src/consumer/server.ts';
import { BATCH_CONTENT_TYPE } from '../src/gateway/batch-parser.ts';
import type { Problem } from '../src/gateway/errors.ts';
import type { RunningGateway } from '../src/gateway/server.ts';
import {
  eventually,
  type IngestEnv,
  ingestEnv,
  runConsumer,
  runGateway,
  syntheticEvents,
  uniqueTenant,
} from './helpers.ts';

type Body = Problem & { accepted?: number; ok?: boolean; checks?: Record<string, string> };
const body = async (res: Response) => (await res.json()) as Body;

describe('ingest gateway', () => {
  let env: IngestEnv;
  let gateway: RunningGateway;
  let consumer: RunningConsumer;
  let tenantA: string;
  let tenantB: string;
  let keyA: string;
  let redis: Redis;

  before(async () => {
    env = await ingestEnv('gateway');
    gateway = await runGateway(env, {
      maxBodyBytes: 256 * 1024,
      rateEventsPerSecond: 1_000_000,
      rateBurstEvents: 2_000_000,
      lastUsedFlushMs: 200,
    });
    consumer = await runConsumer(env);
    tenantA = uniqueTenant('team-a');
    tenantB = uniqueTenant('team-b');
    keyA = (await createApiKey(env.db.pool, { tenant: tenantA, team: 'genomics', scopes: ['ingest'] })).key;
    await createApiKey(env.db.pool, { tenant: tenantB, team: 'imaging', scopes: ['ingest'] });
    redis = new Redis(env.env.TRACER_REDIS_URL ?? 'redis://127.0.0.1:16379');
  });
  after(async () => {
    redis?.disconnect();
    await consumer?.close();
    await gateway?.close();
    await env?.close();
  });

  const post = (payload: Buffer | string, headers: Record<string, string>) =>
    fetch(`${gateway.url}/v1/ingest`, { method: 'POST', body: payload, headers });
  const batchHeaders = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': BATCH_CONTENT_TYPE });
  const count = async (sql: string, params: unknown[] = []) => Number((await env.db.pool.query(sql, params)).rows[0].n);

  test('a batch from a key is stored under the key tenant, even when it claims another', async () => {
    const events = syntheticEvents({ tenant: tenantB, host: 'host-claims-b', agentId: 'agent-1', processes: 5 });
    const res = await post(encodeBatch(events), batchHeaders(keyA));
    assert.equal(res.status, 202, await res.clone().text());
    assert.deepEqual(await body(res), { accepted: events.length });
    await eventually(
      'processes of tenant A',
      async () => (await count("SELECT count(*) AS n FROM processes WHERE host = 'host-claims-b'")) === 5 || undefined,
    );
    assert.equal(
      await count("SELECT count(*) AS n FROM processes WHERE host = 'host-claims-b' AND tenant_id = $1", [tenantA]),
      5,
    );
    assert.equal(await count('SELECT count(*) AS n FROM processes WHERE tenant_id = $1', [tenantB]), 0);
    const agent = await env.db.pool.query('SELECT tenant_id, team_id, max_seq FROM ingest_agents WHERE host = $1', [
      'host-claims-b',
    ]);
    assert.equal(agent.rows[0].tenant_id, tenantA);
    const team = await env.db.pool.query('SELECT id FROM teams WHERE tenant_id = $1', [tenantA]);
    assert.equal(agent.rows[0].team_id, team.rows[0].id);
  });

  test('a key records its last use, in bulk rather than per request', async () => {
    const { key, id } = await createApiKey(env.db.pool, { tenant: tenantA, team: 'genomics', scopes: ['ingest'] });
    const lastUsed = async () =>
      (await env.db.pool.query('SELECT last_used_at FROM api_keys WHERE id = $1', [id])).rows[0].last_used_at;
    assert.equal(await lastUsed(), null);
    for (let i = 0; i < 5; i++) assert.equal((await post(encodeBatch([]), batchHeaders(key))).status, 202);
    const at = await eventually('last use recorded', async () => (await lastUsed()) ?? undefined);
    assert.ok(Date.now() - at.getTime() < 60_000);
  });

  test('as the app role, a key resolves only through tracer_api_key; the table shows nothing without a tenant', async () => {
    const { id } = await createApiKey(env.db.pool, { tenant: tenantA, team: 'genomics', scopes: ['ingest'] });
    const client = await env.db.pool.connect();
    try {
      await client.query('BEGIN; SET LOCAL ROLE tracer_app');
      assert.equal((await client.query('SELECT * FROM api_keys')).rowCount, 0);
      const found = await client.query('SELECT tenant_id, scopes FROM tracer_api_key($1)', [id]);
      assert.deepEqual(found.rows, [{ tenant_id: tenantA, scopes: ['ingest'] }]);
      await client.query('SELECT tracer_touch_api_keys($1, now())', [[id]]);
      await client.query("SELECT set_config('tracer.tenant_id', $1, true)", [tenantA]);
      const own = await client.query('SELECT last_used_at FROM api_keys WHERE id = $1', [id]);
      assert.ok(own.rows[0].last_used_at instanceof Date);
      await client.query("SELECT set_config('tracer.tenant_id', $1, true)", [tenantB]);
      assert.equal((await client.query('SELECT * FROM api_keys WHERE id = $1', [id])).rowCount, 0);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  test('JSON bodies are accepted too', async () => {
    const events = syntheticEvents({ tenant: tenantA, host: 'host-json', agentId: 'agent-j', processes: 2 });
    const res = await post(JSON.stringify({ events }), {
      authorization: `Bearer ${keyA}`,
      'content-type': 'application/json',
    });
    assert.equal(res.status, 202, await res.clone().text());
    await eventually(
      'JSON batch rows',
      async () => (await count("SELECT count(*) AS n FROM processes WHERE host = 'host-json'")) === 2 || undefined,
    );
  });

  test('no key, a wrong key and a revoked key are 401; a key without the ingest scope is 403', async () => {
    const golden = encodeBatch(goldenEvents);
    const none = await post(golden, { 'content-type': BATCH_CONTENT_TYPE });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
    const wrongSecret = `${keyA.slice(0, -4)}AAAA`;
    assert.equal((await post(golden, batchHeaders(wrongSecret))).status, 401);
    assert.equal((await post(golden, batchHeaders('trk_notakeyatall'))).status, 401);

    const revoked = await createApiKey(env.db.pool, { tenant: tenantA, team: 'genomics', scopes: ['ingest'] });
    assert.equal((await post(encodeBatch([]), batchHeaders(revoked.key))).status, 202);
    assert.equal(await revokeApiKey(env.db.pool, revoked.id, redis), 'revoked');
    const res = await eventually('revocation to reach the gateway', async () => {
      const r = await post(encodeBatch([]), batchHeaders(revoked.key));
      return r.status === 401 ? r : undefined;
    });
    assert.match((await body(res)).detail ?? '', /revoked/);

    const reader = await createApiKey(env.db.pool, { tenant: tenantA, team: 'genomics', scopes: ['read'] });
    assert.equal((await post(golden, batchHeaders(reader.key))).status, 403);
  });

  test('a malformed batch is 400 naming the bad events, and nothing of it is stored', async () => {
    const events = syntheticEvents({ tenant: tenantA, host: 'host-malformed', agentId: 'agent-m', processes: 3 });
    (events[4] as unknown as Record<string, unknown>).exitCode = 'one';
    (events[7] as unknown as Record<string, unknown>).type = 'process.nope';
    const res = await post(encodeBatch(events), batchHeaders(keyA));
    assert.equal(res.status, 400);
    const problem = await body(res);
    assert.equal(problem.status, 400);
    assert.equal(problem.badEvents, 2);
    assert.deepEqual(
      problem.errors!.map((e) => e.index),
      [4, 7],
    );
    assert.match(problem.errors![0]!.reason, /process\.exit: \/exitCode/);
    assert.match(problem.errors![1]!.reason, /unknown event type/);
    const garbage = await post(Buffer.from('not a batch'), batchHeaders(keyA));
    assert.equal(garbage.status, 400);
    const notEvents = await post('{"nope":1}', { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' });
    assert.equal(notEvents.status, 400);
    // A good batch after it arrives, so the bad one had its chance to be stored first.
    const marker = syntheticEvents({ tenant: tenantA, host: 'host-malformed', agentId: 'agent-m2', processes: 1 });
    assert.equal((await post(encodeBatch(marker), batchHeaders(keyA))).status, 202);
    await eventually(
      'marker',
      async () =>
        (await count("SELECT count(*) AS n FROM ingest_agents WHERE agent_id = 'agent-m2'")) === 1 || undefined,
    );
    assert.equal(await count("SELECT count(*) AS n FROM ingest_agents WHERE agent_id = 'agent-m'"), 0);
    assert.equal(await count("SELECT count(*) AS n FROM process_samples WHERE host = 'host-malformed'"), 1);
  });

  test('an oversized body is 413', async () => {
    const res = await post(Buffer.alloc(300 * 1024, 1), batchHeaders(keyA));
    assert.equal(res.status, 413);
    assert.equal((await body(res)).status, 413);
  });

  test('a tenant over its rate gets 429 with Retry-After', async () => {
    const limited = await runGateway(env, { rateEventsPerSecond: 10, rateBurstEvents: 20 });
    try {
      const tenant = uniqueTenant('rate');
      const { key } = await createApiKey(env.db.pool, { tenant, team: 't', scopes: ['ingest'] });
      const events = syntheticEvents({ tenant, host: 'h', agentId: 'a', processes: 2 }); // 10 events
      const send = () =>
        fetch(`${limited.url}/v1/ingest`, { method: 'POST', body: encodeBatch(events), headers: batchHeaders(key) });
      assert.equal((await send()).status, 202);
      assert.equal((await send()).status, 202);
      const refused = await send();
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.equal((await body(refused)).retryAfterSeconds, Number(refused.headers.get('retry-after')));
    } finally {
      await limited.close();
    }
  });

  test('health, readiness and metrics answer', async () => {
    assert.deepEqual(await (await fetch(`${gateway.url}/healthz`)).json(), { ok: true });
    const ready = await fetch(`${gateway.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual((await body(ready)).checks, { kafka: 'ok', postgres: 'ok', redis: 'ok' });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(metrics, /tracer_ingest_requests_total\{status="202"\} \d+/);
    assert.match(metrics, /tracer_ingest_tenant_rewrites_total \d+/);
    const consumerMetrics = await (await fetch(`${consumer.url}/metrics`)).text();
    assert.match(consumerMetrics, /tracer_ingest_rows_total\{table="processes"\} \d+/);
    assert.equal((await fetch(`${consumer.url}/readyz`)).status, 200);
    const missing = await fetch(`${gateway.url}/v2/nothing`);
    assert.equal(missing.status, 404);
    assert.equal((await body(missing)).status, 404);
  });
});
