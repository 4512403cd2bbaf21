// PostgreSQL 15 from Debian as a project-owned cluster: its own data directory, port and socket
// directory, so it coexists with any system PostgreSQL. The bootstrap superuser is `tracer`
// (password `tracer`) and the database `tracer` holds the platform's schema. TimescaleDB is
// preloaded and created when its extension is installed (DESIGN.md section 5).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  existsSync,
  lstatSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { StackPaths } from './paths.ts';
import { ensureDirs } from './paths.ts';
import { assertPortFree } from './ports.ts';
import { ownedOrStatus, ownedPid, run, tail, waitUntil } from './processes.ts';
import { type LocalServer, type Progress, type ServerStatus, StackError } from './server.ts';

export interface PostgresOptions {
  paths: StackPaths;
  port: number;
  /** Where initdb and pg_ctl live (TRACER_POSTGRES_BIN overrides). */
  binDir?: string;
}

const defaultBinDir = '/usr/lib/postgresql/15/bin';

/** True when the timescaledb extension is installed for this PostgreSQL. */
export function hasTimescale(binDir = defaultBinDir): boolean {
  return existsSync(join(dirname(binDir), 'lib', 'timescaledb.so'));
}

/** Runs one statement on a fresh connection; throws on any failure. */
export async function queryPostgres(databaseUrl: string, sql: string, timeoutMs = 2000): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

interface OsUser {
  uid: number;
  gid: number;
}

/**
 * initdb refuses to run as root, so root runs the cluster as the `postgres` user Debian
 * creates: undefined when not root (the cluster runs as us), null when that user is missing.
 */
function clusterOwner(): OsUser | undefined | null {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid === undefined || gid === undefined ? null : { uid: Number(uid), gid: Number(gid) };
}

interface Layout {
  dataDir: string;
  socketDir: string;
  logFile: string;
  /** Symlinks to create (from .tracer/ into /var/lib/tracer) when the files live elsewhere. */
  links: { path: string; target: string; dir: boolean }[];
}

/**
 * The cluster's files live under .tracer/ unless the `postgres` user cannot reach that folder
 * (a clone under /root, mode 700): then they live in /var/lib/tracer/<hash of the folder>,
 * with symlinks from .tracer/ so the usual paths still lead to them. Decides, creates nothing.
 */
function planLayout(paths: StackPaths, owner: OsUser | undefined | null): Layout {
  const usual = {
    dataDir: join(paths.data, 'postgres'),
    socketDir: join(paths.run, 'postgres'),
    logFile: join(paths.log, 'postgres.log'),
  };
  const reachable = (dir: string) => !owner || traversable(nearestExisting(dir), owner);
  if (!isSymlink(usual.dataDir) && [paths.data, paths.run, paths.log].every(reachable)) {
    return { ...usual, links: [] };
  }
  const base = join('/var/lib/tracer', createHash('sha256').update(paths.home).digest('hex').slice(0, 12));
  // Processes running as `postgres` get the real paths: they cannot pass through .tracer/.
  const moved = { dataDir: join(base, 'data'), socketDir: join(base, 'run'), logFile: join(base, 'postgres.log') };
  return {
    ...moved,
    links: [
      { path: usual.dataDir, target: moved.dataDir, dir: true },
      { path: usual.logFile, target: moved.logFile, dir: false },
    ],
  };
}

function createLayout(paths: StackPaths, layout: Layout): void {
  ensureDirs(paths.data, paths.run, paths.log, layout.socketDir);
  for (const { path, target, dir } of layout.links) {
    if (isSymlink(path)) continue;
    // No link means .tracer/ was deleted (a reset) or is new: what is left there is an orphan.
    rmSync(target, { recursive: true, force: true });
    if (dir) ensureDirs(target);
    else writeFileSync(target, '');
    symlinkSync(target, path);
  }
}

function nearestExisting(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** Can `owner` reach into dir? (Each folder we hand it inside is chowned to it.) */
function traversable(dir: string, owner: OsUser): boolean {
  return spawnSync('test', ['-x', dir], { uid: owner.uid, gid: owner.gid }).status === 0;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export function createPostgres({
  paths,
  port,
  binDir = process.env.TRACER_POSTGRES_BIN || defaultBinDir,
}: PostgresOptions): LocalServer {
  const owner = clusterOwner();
  const layout = planLayout(paths, owner);
  const { dataDir, socketDir, logFile } = layout;
  const pidFile = join(dataDir, 'postmaster.pid');
  const address = `127.0.0.1:${port}`;
  const adminUrl = `postgres://tracer:tracer@127.0.0.1:${port}/postgres`;
  const tracerUrl = `postgres://tracer:tracer@127.0.0.1:${port}/tracer`;
  const asOwner = owner ?? {};

  const chown = (path: string) => {
    if (owner) chownSync(path, owner.uid, owner.gid);
  };

  async function pgCtl(args: string[]) {
    return run(join(binDir, 'pg_ctl'), ['-D', dataDir, ...args], { cwd: dataDir, detached: true, ...asOwner });
  }

  async function initCluster(progress: Progress): Promise<void> {
    progress('postgres: creating the cluster (initdb, first start only)');
    ensureDirs(dataDir);
    chown(dataDir);
    const pwFile = join(socketDir, 'initdb.pw');
    writeFileSync(pwFile, 'tracer\n', { mode: 0o600 });
    chown(pwFile);
    try {
      const res = await run(
        join(binDir, 'initdb'),
        [
          ...['-D', dataDir, '--username=tracer', `--pwfile=${pwFile}`],
          ...['--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C'],
        ],
        { cwd: dataDir, ...asOwner },
      );
      if (res.code !== 0) {
        throw new StackError(
          `postgres: initdb failed (exit ${res.code}):\n${res.output}\n` +
            `Fix the cause, remove ${dataDir} and run ./tracer up again.`,
        );
      }
    } finally {
      rmSync(pwFile, { force: true });
    }
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      "\n# Written by tracer on each start.\ninclude_if_exists = 'tracer.conf'\n",
    );
  }

  function writeConfig(): void {
    // Unix socket paths are limited to 107 bytes; a deep TRACER_HOME goes TCP-only.
    const socket = join(socketDir, `.s.PGSQL.${port}`).length < 100 ? socketDir : '';
    const timescale = hasTimescale(binDir);
    const lines = [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${socket}'`,
      ...(timescale ? ["shared_preload_libraries = 'timescaledb'", "timescaledb.telemetry_level = 'off'"] : []),
      "log_line_prefix = '%m [%p] %q%u@%d '",
      'log_min_messages = warning',
    ];
    const conf = join(dataDir, 'tracer.conf');
    writeFileSync(conf, `${lines.join('\n')}\n`);
    chown(conf);
  }

  /** The database `tracer` (and TimescaleDB in it, when installed) exist once this resolves. */
  async function ensureDatabase(): Promise<void> {
    const exists = await queryPostgres(adminUrl, "select 1 from pg_database where datname = 'tracer'");
    if (exists.rowCount === 0) await queryPostgres(adminUrl, 'create database tracer');
    if (hasTimescale(binDir)) await queryPostgres(tracerUrl, 'create extension if not exists timescaledb');
  }

  return {
    name: 'postgres',
    address,
    logFile,
    ports: [{ port, envVar: 'TRACER_POSTGRES_PORT' }],

    async status(): Promise<ServerStatus> {
      const { pid, status } = ownedOrStatus(pidFile, dataDir, `exited without shutting down; see ${logFile}`);
      if (status) return status;
      try {
        await queryPostgres(tracerUrl, 'select 1');
        return { state: 'running', pid };
      } catch (err) {
        return {
          state: 'failed',
          pid,
          reason: `pid ${pid} does not answer on ${address} (${String(err)}); see ${logFile}`,
        };
      }
    },

    async start(progress: Progress): Promise<void> {
      if (owner === null) {
        throw new StackError('postgres: no `postgres` OS user to run the cluster as; run: bash infra/local/install.sh');
      }
      createLayout(paths, layout);
      chown(socketDir);
      if (!existsSync(join(dataDir, 'PG_VERSION'))) await initCluster(progress);
      await assertPortFree('postgres', port, 'TRACER_POSTGRES_PORT');
      writeConfig();
      if (!existsSync(logFile)) writeFileSync(logFile, '');
      chown(logFile);
      progress(`postgres: starting on ${address}${hasTimescale(binDir) ? ' with TimescaleDB' : ''}`);
      // -W: do not wait here, so Kafka's JVM boots meanwhile; waitReady asks a real query.
      const res = await pgCtl(['-l', logFile, '-W', '-s', 'start']);
      if (res.code !== 0) {
        throw new StackError(`postgres: pg_ctl start failed: ${res.output}\nSee ${logFile}:\n${tail(logFile)}`);
      }
    },

    async waitReady(progress: Progress, timeoutMs: number): Promise<void> {
      let lastError = '';
      const ok = await waitUntil(
        async () => {
          if (ownedPid(pidFile, dataDir) === undefined) return false;
          try {
            await ensureDatabase();
            await queryPostgres(tracerUrl, 'select 1');
            return true;
          } catch (err) {
            lastError = String(err);
            return false;
          }
        },
        { timeoutMs, onWait: (s) => progress(`postgres: still waiting for a query to answer (${s}s)`) },
      );
      if (!ok) {
        throw new StackError(
          `postgres: no answer from ${address} after ${timeoutMs / 1000}s (${lastError || 'not running'}). ` +
            `See ${logFile}:\n${tail(logFile)}`,
        );
      }
    },

    async stop(progress: Progress): Promise<void> {
      if (ownedPid(pidFile, dataDir) === undefined) return;
      progress('postgres: stopping');
      const res = await pgCtl(['-m', 'fast', '-w', '-t', '60', '-s', 'stop']);
      if (res.code !== 0) throw new StackError(`postgres: pg_ctl stop failed: ${res.output}; see ${logFile}`);
    },
  };
}
