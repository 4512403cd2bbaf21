// Row-level security as the application sees it: through withTenant, and through hand-written
// SQL as the app role, with and without a tenant set.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { APP_ROLE, withTenant } from '../src/index.ts';
import { freshDatabase, insertProcessSql, processParams, processRow, type TestDatabase } from './helpers.ts';

describe('tenancy', () => {
  let db: TestDatabase;
  const now = new Date();
  before(async () => {
    db = await freshDatabase('tenancy');
    await db.pool.query("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')");
    await withTenant(db.pool, 'acme', async (c) => {
      for (let i = 0; i < 3; i++) await c.query(insertProcessSql, processParams(processRow('acme', now)));
      await c.query("INSERT INTO teams (tenant_id, name) VALUES ('acme', 'genomics')");
    });
    await withTenant(db.pool, 'globex', async (c) => {
      await c.query(insertProcessSql, processParams(processRow('globex', now, { exe: '/usr/bin/samtools' })));
      await c.query("INSERT INTO teams (tenant_id, name) VALUES ('globex', 'imaging')");
    });
  });
  after(() => db.drop());

  test('withTenant sees only its own tenant, whatever the query asks for', async () => {
    const acme = await withTenant(
      db.pool,
      'acme',
      async (c) => (await c.query('SELECT tenant_id FROM processes')).rows,
    );
    const globex = await withTenant(db.pool, 'globex', async (c) => (await c.query('SELECT * FROM processes')).rows);
    assert.equal(acme.length, 3);
    assert.ok(acme.every((r) => r.tenant_id === 'acme'));
    assert.deepEqual(
      globex.map((r) => [r.tenant_id, r.exe]),
      [['globex', '/usr/bin/samtools']],
    );
    const asked = await withTenant(
      db.pool,
      'globex',
      async (c) => (await c.query("SELECT count(*)::int AS n FROM processes WHERE tenant_id = 'acme'")).rows[0].n,
    );
    assert.equal(asked, 0);
    const teams = await withTenant(db.pool, 'globex', async (c) => (await c.query('SELECT name FROM teams')).rows);
    assert.deepEqual(teams, [{ name: 'imaging' }]);
    const tenants = await withTenant(db.pool, 'globex', async (c) => (await c.query('SELECT id FROM tenants')).rows);
    assert.deepEqual(tenants, [{ id: 'globex' }]);
  });

  test("tenant B cannot read A's rows with a hand-written SELECT * as the app role", async () => {
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL ROLE ${APP_ROLE}`);
      await c.query("SELECT set_config('tracer.tenant_id', 'globex', true)");
      const { rows } = await c.query('SELECT * FROM processes');
      assert.deepEqual([...new Set(rows.map((r) => r.tenant_id))], ['globex']);
      const { rows: who } = await c.query(
        'SELECT current_user AS u, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su',
      );
      assert.deepEqual(who, [{ u: APP_ROLE, su: false }]);
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });

  test('no tenant set: no rows, and no error', async () => {
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL ROLE ${APP_ROLE}`);
      assert.equal((await c.query('SELECT count(*)::int AS n FROM processes')).rows[0].n, 0);
      assert.equal((await c.query('SELECT count(*)::int AS n FROM teams')).rows[0].n, 0);
      // Set, then reset to '' (what a pooled connection holds after a tenant transaction).
      await c.query("SELECT set_config('tracer.tenant_id', '', true)");
      assert.equal((await c.query('SELECT count(*)::int AS n FROM processes')).rows[0].n, 0);
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });

  test('a pooled connection keeps neither the tenant nor the role after withTenant', async () => {
    const pool = db.pool;
    // Occupy every connection in turn: each has run a tenant transaction in before().
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect(), pool.connect()]);
    try {
      for (const c of clients) {
        const { rows } = await c.query(
          "SELECT current_user AS u, coalesce(current_setting('tracer.tenant_id', true), '') AS t",
        );
        assert.notEqual(rows[0].u, APP_ROLE);
        assert.equal(rows[0].t, '');
      }
    } finally {
      for (const c of clients) c.release();
    }
  });

  test('a tenant cannot write, move or delete rows of another tenant', async () => {
    await assert.rejects(
      withTenant(db.pool, 'globex', (c) => c.query(insertProcessSql, processParams(processRow('acme', now)))),
      /row-level security/,
    );
    const changed = await withTenant(db.pool, 'globex', async (c) => {
      const upd = await c.query("UPDATE processes SET exe = 'pwned' WHERE tenant_id = 'acme'");
      const del = await c.query("DELETE FROM processes WHERE tenant_id = 'acme'");
      return [upd.rowCount, del.rowCount];
    });
    assert.deepEqual(changed, [0, 0]);
    await assert.rejects(
      withTenant(db.pool, 'globex', (c) => c.query("UPDATE processes SET tenant_id = 'acme'")),
      /row-level security/,
    );
    const acme = await withTenant(
      db.pool,
      'acme',
      async (c) => (await c.query("SELECT count(*)::int AS n FROM processes WHERE exe <> 'pwned'")).rows[0].n,
    );
    assert.equal(acme, 3);
  });

  test('partitions are not readable by the app role directly (policies live on the parent)', async () => {
    await assert.rejects(
      withTenant(db.pool, 'globex', (c) => c.query('SELECT * FROM processes_default')),
      (err: { code?: string }) => err.code === '42501',
    );
  });

  test('FORCE ROW LEVEL SECURITY filters a non-superuser owner too', async () => {
    const owner = `tracer_test_owner_${process.pid}`;
    await db.pool.query(`CREATE ROLE ${owner} NOLOGIN`);
    try {
      await db.pool.query(`ALTER TABLE processes OWNER TO ${owner}`);
      const c = await db.pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(`SET LOCAL ROLE ${owner}`);
        assert.equal((await c.query('SELECT count(*)::int AS n FROM processes')).rows[0].n, 0);
        await c.query("SELECT set_config('tracer.tenant_id', 'acme', true)");
        assert.equal((await c.query('SELECT count(*)::int AS n FROM processes')).rows[0].n, 3);
      } finally {
        await c.query('ROLLBACK');
        c.release();
      }
    } finally {
      await db.pool.query('ALTER TABLE processes OWNER TO CURRENT_USER');
      await db.pool.query(`DROP ROLE ${owner}`);
    }
  });

  test('withTenant rolls back on error and refuses an empty tenant', async () => {
    await assert.rejects(
      withTenant(db.pool, 'acme', async (c) => {
        await c.query(insertProcessSql, processParams(processRow('acme', now)));
        throw new Error('handler failed');
      }),
      /handler failed/,
    );
    const n = await withTenant(
      db.pool,
      'acme',
      async (c) => (await c.query('SELECT count(*)::int AS n FROM processes')).rows[0].n,
    );
    assert.equal(n, 3);
    await assert.rejects(
      withTenant(db.pool, '', async () => 1),
      /non-empty/,
    );
  });

  test('replayed writes are no-ops: the keys make inserts idempotent', async () => {
    const row = processRow('acme', now);
    const sample = ['acme', 'host-1', row.upid, now, 1_000_000, 4096, 0, 0, 'R', 'agent-1', 42];
    const insertSample = `INSERT INTO process_samples (tenant_id, host, upid, ts, cpu_ns, rss_bytes, read_bytes, write_bytes, state, agent_id, seq)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`;
    const inserted = await withTenant(db.pool, 'acme', async (c) => {
      const counts = [];
      for (let i = 0; i < 2; i++) {
        counts.push((await c.query(insertProcessSql, processParams(row))).rowCount);
        counts.push((await c.query(insertSample, sample)).rowCount);
      }
      return counts;
    });
    assert.deepEqual(inserted, [1, 1, 0, 0]);
  });
});
