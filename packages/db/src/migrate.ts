// Forward-only SQL migrations (migrations/*.sql) run by node-pg-migrate, all pending files in
// one transaction under an advisory lock, so concurrent starters apply them once.
import { fileURLToPath } from 'node:url';
import { createLogger } from '@tracer/log';
import { PG_MIGRATE_LOCK_ID, runner } from 'node-pg-migrate';
import pg from 'pg';

export const migrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));
export const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrateOptions {
  databaseUrl: string;
  /**
   * 'auto' uses TimescaleDB when the server can load it; 'native' always uses PostgreSQL's own
   * range partitioning. Only the first migration of a database decides.
   */
  storage?: 'auto' | 'native';
  /** How long to wait for another migrator to finish (default 5 minutes). */
  lockTimeoutMs?: number;
}

export async function migrate(options: MigrateOptions): Promise<{ applied: string[] }> {
  const log = createLogger('db-migrate');
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'tracer-migrate' });
  await client.connect();
  try {
    if (options.storage === 'native') await client.query("SET tracer.storage = 'native'");
    // node-pg-migrate's own lock is try-or-fail: a second `tracer up` starting at the same
    // time would fail. Waiting on the same lock id instead lets it find nothing to apply.
    await client.query(`SET lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs ?? 300_000))}`);
    await client.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
    await client.query('RESET lock_timeout');
    // NOTICEs (TimescaleDB refusals, skipped steps) are worth seeing once.
    client.on('notice', (n) => log.info({ notice: n.message }, 'migration notice'));
    const ran = await runner({
      dbClient: client,
      dir: migrationsDir,
      direction: 'up',
      migrationsTable: MIGRATIONS_TABLE,
      checkOrder: true,
      singleTransaction: true,
      noLock: true,
      logger: {
        debug: (msg: string) => log.debug(msg),
        info: (msg: string) => log.debug(msg),
        warn: (msg: string) => log.warn(msg),
        error: (msg: string) => log.error(msg),
      },
    });
    const applied = ran.map((m) => m.name);
    if (applied.length > 0) log.info({ applied }, 'applied migrations');
    return { applied };
  } finally {
    // Ending the session releases the advisory lock.
    await client.end();
  }
}
