// Test databases: one per test file, cloned from a template that was migrated once (per
// migration contents), dropped afterwards. Cloning takes a fraction of a second; migrating
// every file's database from scratch would repeat the whole schema each time.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackAddresses } from '@tracer/local';
import pg from 'pg';
import { createPool, migrate, migrationsDir, type Pool } from '../src/index.ts';

const TEST_DB_PREFIX = 'tracer_test_';
const TEMPLATE_PREFIX = 'tracer_tpl_';
/** Serializes template builds across test processes (any constant shared by them). */
const TEMPLATE_LOCK = 72_410_001;
const STALE_MS = 3600_000;

export function databaseUrl(name: string): string {
  const url = new URL(stackAddresses().databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: stackAddresses().databaseUrl, application_name: 'tracer-db-test' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDir).sort())
    hash.update(file).update(readFileSync(join(migrationsDir, file)));
  return hash.digest('hex').slice(0, 12);
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function uniqueDatabaseName(label: string): string {
  return `${TEST_DB_PREFIX}${label.replace(/[^a-z0-9]/g, '_').slice(0, 20)}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

async function ensureTemplate(admin: pg.Client): Promise<string> {
  const template = `${TEMPLATE_PREFIX}${migrationsHash()}`;
  const exists = async (name: string) =>
    (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  if (await exists(template)) return template;
  // Built under another name and renamed when complete: a crash never leaves a half template.
  const building = `${template}_building`;
  await admin.query(`DROP DATABASE IF EXISTS ${ident(building)} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${ident(building)}`);
  await migrate({ databaseUrl: databaseUrl(building), storage: 'native' });
  await admin.query(`ALTER DATABASE ${ident(building)} RENAME TO ${ident(template)}`);
  await admin.query(`ALTER DATABASE ${ident(template)} IS_TEMPLATE true`);
  // Templates of older migrations, and test databases left by killed runs.
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE (datname LIKE $1 AND datname <> $2) OR datname LIKE $3`,
    [`${TEMPLATE_PREFIX}%`, template, `${TEST_DB_PREFIX}%`],
  );
  for (const { datname } of rows) {
    const stamp = datname.startsWith(TEST_DB_PREFIX) ? Number.parseInt(datname.split('_').at(-2) ?? '', 36) : 0;
    if (datname.startsWith(TEST_DB_PREFIX) && Date.now() - stamp < STALE_MS) continue;
    await admin.query(`ALTER DATABASE ${ident(datname)} IS_TEMPLATE false`).catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${ident(datname)} WITH (FORCE)`).catch(() => {});
  }
  return template;
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Owner pool (a superuser on the dev cluster): setup and checks, not the app's view. */
  pool: Pool;
  drop(): Promise<void>;
}

/** A database of its own for one test file, migrated (native partitioning). */
export async function freshDatabase(label: string): Promise<TestDatabase> {
  const name = uniqueDatabaseName(label);
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      const template = await ensureTemplate(admin);
      await admin.query(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(template)}`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
    }
  });
  return testDatabase(name);
}

/** An empty database of its own (no migrations applied). */
export async function emptyDatabase(label: string): Promise<TestDatabase> {
  const name = uniqueDatabaseName(label);
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${ident(name)}`));
  return testDatabase(name);
}

function testDatabase(name: string): TestDatabase {
  const url = databaseUrl(name);
  const pool = createPool({ databaseUrl: url, max: 4, applicationName: 'tracer-db-test' });
  return {
    name,
    url,
    pool,
    drop: async () => {
      await pool.end();
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
    },
  };
}

export interface ProcessRow {
  tenant_id: string;
  host: string;
  upid: string;
  start_ts: Date;
  pid: number;
  exe?: string;
}

let upidCounter = 0;
export function processRow(tenant: string, startTs: Date, extra: Partial<ProcessRow> = {}): ProcessRow {
  upidCounter++;
  return {
    tenant_id: tenant,
    host: 'host-1',
    upid: `0badc0de-${1000 + upidCounter}-${upidCounter * 7919}`,
    start_ts: startTs,
    pid: 1000 + upidCounter,
    exe: '/usr/bin/bwa',
    ...extra,
  };
}

export const insertProcessSql = `
  INSERT INTO processes (tenant_id, host, upid, start_ts, pid, exe, agent_id, exec_seq)
  VALUES ($1, $2, $3, $4, $5, $6, 'agent-1', 1)
  ON CONFLICT (tenant_id, host, upid, start_ts) DO NOTHING`;

export const processParams = (r: ProcessRow) => [r.tenant_id, r.host, r.upid, r.start_ts, r.pid, r.exe ?? null];
