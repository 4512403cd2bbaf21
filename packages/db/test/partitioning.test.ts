// The native partitioning path (what CI's plain PostgreSQL runs): no row is ever refused,
// partitions are made ahead, rows parked in the default partition move into new partitions,
// and retention drops whole partitions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPartitions, maintainTimeSeries, timeSeriesTables, withTenant } from '../src/index.ts';
import { freshDatabase, insertProcessSql, processParams, processRow, type TestDatabase } from './helpers.ts';

const DAY = 86_400_000;

describe('native time partitioning', () => {
  let db: TestDatabase;
  before(async () => {
    db = await freshDatabase('partitions');
    await db.pool.query("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')");
  });
  after(() => db.drop());

  const partitionOf = async (upid: string) =>
    (await db.pool.query<{ p: string }>('SELECT tableoid::regclass::text AS p FROM processes WHERE upid = $1', [upid]))
      .rows[0]?.p;

  test('the migrated template uses native partitioning with partitions ahead of now', async () => {
    const tables = await timeSeriesTables(db.pool);
    assert.deepEqual(
      tables.map((t) => [t.table, t.mode, t.chunkInterval, t.retention]),
      [
        ['file_opens', 'native', '1 day', '35 days'],
        ['host_samples', 'native', '1 day', '35 days'],
        ['oom_kills', 'native', '7 days', '400 days'],
        ['process_logs', 'native', '1 day', '35 days'],
        ['process_samples', 'native', '1 day', '35 days'],
        ['processes', 'native', '7 days', '400 days'],
      ],
    );
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'process_samples'::regclass`,
    );
    assert.ok(rows[0]!.n >= 8, `${rows[0]!.n} partitions (7 days ahead, plus default)`);
  });

  test('rows far in the past and far in the future are accepted (default partition)', async () => {
    const now = processRow('acme', new Date());
    const past = processRow('acme', new Date('1971-02-03T04:05:06Z'));
    const future = processRow('acme', new Date('2199-12-31T23:59:59Z'));
    await withTenant(db.pool, 'acme', async (c) => {
      for (const r of [now, past, future])
        assert.equal((await c.query(insertProcessSql, processParams(r))).rowCount, 1);
    });
    assert.match((await partitionOf(now.upid))!, /^processes_p\d{8}$/);
    assert.equal(await partitionOf(past.upid), 'processes_default');
    assert.equal(await partitionOf(future.upid), 'processes_default');
  });

  test('a new partition takes over the rows parked in the default partition', async () => {
    const at = new Date(Date.now() + 90 * DAY);
    const row = processRow('acme', at);
    await withTenant(db.pool, 'acme', (c) => c.query(insertProcessSql, processParams(row)));
    assert.equal(await partitionOf(row.upid), 'processes_default');
    assert.equal(await createPartitions(db.pool, 'processes', at, new Date(at.getTime() + 1)), 1);
    assert.equal(await createPartitions(db.pool, 'processes', at, new Date(at.getTime() + 1)), 0, 'idempotent');
    assert.match((await partitionOf(row.upid))!, /^processes_p\d{8}$/);
    const seen = await withTenant(
      db.pool,
      'acme',
      async (c) => (await c.query('SELECT upid FROM processes WHERE upid = $1', [row.upid])).rows,
    );
    assert.equal(seen.length, 1, 'the row moved, not copied or lost');
  });

  test('maintenance makes partitions ahead and drops those past retention', async () => {
    // A sample partition from 60 days ago (retention: 35 days), holding one row.
    const old = new Date(Date.now() - 60 * DAY);
    await createPartitions(db.pool, 'process_samples', old, new Date(old.getTime() + 1));
    const oldRow = ['acme', 'host-1', '0badc0de-1-1', old, 1, 1, 0, 0, 'S', 'agent-1', 1];
    const ancient = ['acme', 'host-1', '0badc0de-1-1', new Date('1980-01-01Z'), 1, 1, 0, 0, 'S', 'agent-1', 2];
    await withTenant(db.pool, 'acme', async (c) => {
      for (const r of [oldRow, ancient]) {
        await c.query(
          `INSERT INTO process_samples (tenant_id, host, upid, ts, cpu_ns, rss_bytes, read_bytes, write_bytes, state, agent_id, seq)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          r,
        );
      }
    });
    const results = await maintainTimeSeries(db.pool);
    const samples = results.find((r) => r.table === 'process_samples')!;
    assert.ok(samples.dropped >= 1, JSON.stringify(samples));
    assert.equal(samples.deletedFromDefault, 1);
    const left = await withTenant(
      db.pool,
      'acme',
      async (c) => (await c.query('SELECT count(*)::int AS n FROM process_samples WHERE seq IN (1, 2)')).rows[0].n,
    );
    assert.equal(left, 0);
    const again = await maintainTimeSeries(db.pool);
    assert.deepEqual(
      again.map((r) => [r.created, r.dropped]),
      again.map(() => [0, 0]),
      'a second run has nothing to do',
    );
  });
});
