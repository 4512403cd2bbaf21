import { createLogger } from '@tracer/log';
import pg from 'pg';

export type { Pool, PoolClient } from 'pg';

export interface PoolOptions {
  databaseUrl: string;
  /** Connections at most; PostgreSQL's own limit is shared by every service. */
  max?: number;
  applicationName?: string;
  /** Statements running longer are cancelled by the server (0: no limit). */
  statementTimeoutMs?: number;
}

export function createPool(options: PoolOptions): pg.Pool {
  const log = createLogger('db');
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tracer',
    statement_timeout: options.statementTimeoutMs ?? 0,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client's connection can drop (server restart); without a listener that error
  // would end the process. The pool discards the client and opens a new one when needed.
  pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
  return pool;
}
