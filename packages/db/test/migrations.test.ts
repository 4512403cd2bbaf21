import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { migrate, migrationsDir, timeSeriesTables } from '../src/index.ts';
import { emptyDatabase, type TestDatabase } from './helpers.ts';

const migrationNames = readdirSync(migrationsDir)
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => f.replace(/\.sql$/, ''));

describe('migrations', { concurrency: true }, () => {
  const dbs: TestDatabase[] = [];
  after(() => Promise.all(dbs.map((d) => d.drop())));

  test('apply to an empty database, then are no-ops the second time', async () => {
    const db = await emptyDatabase('migrate');
    dbs.push(db);
    assert.deepEqual(await migrate({ databaseUrl: db.url }), { applied: migrationNames });
    assert.deepEqual(await migrate({ databaseUrl: db.url }), { applied: [] });

    const { rows } = await db.pool.query<{ relname: string; relkind: string }>(
      `SELECT relname, relkind FROM pg_class
       WHERE relname IN ('tenants', 'teams', 'processes', 'process_samples') AND relnamespace = 'public'::regnamespace
       ORDER BY relname`,
    );
    const { rows: ext } = await db.pool.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
    const timescale = ext.length === 1;
    const series = timescale ? 'r' : 'p'; // hypertable: plain table; native: partitioned
    assert.deepEqual(rows, [
      { relname: 'process_samples', relkind: series },
      { relname: 'processes', relkind: series },
      { relname: 'teams', relkind: 'r' },
      { relname: 'tenants', relkind: 'r' },
    ]);
    const modes = (await timeSeriesTables(db.pool)).map((t) => [t.table, t.mode]);
    const mode = timescale ? 'timescaledb' : 'native';
    assert.deepEqual(modes, [
      ['file_opens', mode],
      ['host_samples', mode],
      ['oom_kills', mode],
      ['process_logs', mode],
      ['process_samples', mode],
      ['processes', mode],
    ]);
  });

  test('two migrators at once: one applies, the other waits and finds nothing to apply', async () => {
    const db = await emptyDatabase('migrate-race');
    dbs.push(db);
    const results = await Promise.all([migrate({ databaseUrl: db.url }), migrate({ databaseUrl: db.url })]);
    assert.deepEqual(
      results.map((r) => r.applied).sort((a, b) => b.length - a.length),
      [migrationNames, []],
    );
  });

  test('every tenant-owned table has tenant_id, forced row-level security and a policy', async () => {
    const db = await emptyDatabase('rls-shape');
    dbs.push(db);
    await migrate({ databaseUrl: db.url, storage: 'native' });
    const { rows } = await db.pool.query<{ relname: string; rls: boolean; forced: boolean; policies: number }>(
      `SELECT c.relname, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
              (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
       FROM pg_class c
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
       ORDER BY c.relname`,
    );
    // Any table with tenant_id, present or future, must be isolated; these ones must exist.
    const unprotected = rows.filter((r) => !r.rls || !r.forced || r.policies < 1).map((r) => r.relname);
    assert.deepEqual(unprotected, []);
    const names = rows.map((r) => r.relname);
    for (const table of ['api_keys', 'consumer_state', 'file_opens', 'host_boots', 'host_info', 'host_samples'])
      assert.ok(names.includes(table), `${table} is missing`);
    for (const table of ['ingest_agents', 'oom_kills', 'process_logs', 'process_samples', 'processes', 'teams'])
      assert.ok(names.includes(table), `${table} is missing`);
    // api_keys: tenant isolation, plus read and last-use update for the key lookup role.
    assert.equal(rows.find((r) => r.relname === 'api_keys')?.policies, 3);
  });

  test('with TimescaleDB: hypertables with retention policies', async (t) => {
    const db = await emptyDatabase('timescale');
    dbs.push(db);
    const { rows } = await db.pool.query("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'");
    if (rows.length === 0) return t.skip('timescaledb is not installed on this PostgreSQL');
    await migrate({ databaseUrl: db.url });
    const tables = await timeSeriesTables(db.pool);
    assert.deepEqual(
      tables.map((x) => [x.table, x.mode]),
      [
        ['process_samples', 'timescaledb'],
        ['processes', 'timescaledb'],
      ],
    );
    const { rows: hypertables } = await db.pool.query(
      'SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY hypertable_name',
    );
    assert.deepEqual(
      hypertables.map((h) => h.hypertable_name),
      ['process_samples', 'processes'],
    );
    const { rows: jobs } = await db.pool.query(
      "SELECT hypertable_name FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' ORDER BY 1",
    );
    assert.deepEqual(
      jobs.map((j) => j.hypertable_name),
      ['process_samples', 'processes'],
    );
  });

  test('the migrate command applies, then reports nothing to apply', async () => {
    const db = await emptyDatabase('migrate-bin');
    dbs.push(db);
    const bin = new URL('../src/bin/migrate.ts', import.meta.url).pathname;
    const run = () =>
      promisify(execFile)(process.execPath, [bin, '--database-url', db.url], {
        env: { ...process.env, TRACER_LOG_LEVEL: 'warn' },
      });
    const first = await run();
    assert.deepEqual(first.stdout.trim().split('\n'), migrationNames);
    const second = await run();
    assert.equal(second.stdout, '');
    assert.match(second.stderr, /nothing to apply/);
  });
});
