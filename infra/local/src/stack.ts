// The local stack: Kafka, PostgreSQL and Redis started in order, each waited on until a real
// client call answers, stopped in reverse. `up` is a no-op for what already runs, and one
// lock file keeps two `up`/`down` (two terminals, parallel test files) from racing.
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type StackAddresses, stackAddresses } from './addresses.ts';
import { createKafka } from './kafka.ts';
import { ensureDirs, type StackPaths, stackPaths } from './paths.ts';
import { assertPortFree, isPortFree, portHolder } from './ports.ts';
import { createPostgres } from './postgres.ts';
import { isAlive } from './processes.ts';
import { createRedis } from './redis.ts';
import type { LocalServer, Progress, ServerStatus } from './server.ts';
import {
  createAttributionService,
  createHostAgent,
  createIngestConsumer,
  createIngestGateway,
  createInsightsService,
} from './services.ts';

export interface Stack {
  paths: StackPaths;
  addresses: StackAddresses;
  /** In start order; stopped in reverse. */
  servers: LocalServer[];
  status(): Promise<{ server: LocalServer; status: ServerStatus }[]>;
  /** Starts whatever is not running and waits until all answer; returns the names it started. */
  up(progress?: Progress): Promise<{ started: string[] }>;
  /** Stops the named servers (all by default), in reverse start order. */
  down(progress?: Progress, names?: string[]): Promise<void>;
}

/** Seconds each server gets to answer after launch (the JVM is the slow one). */
const readyTimeoutMs: Record<string, number> = { kafka: 120_000, postgres: 60_000, redis: 30_000 };

export function createStack(opts: { home?: string; addresses?: StackAddresses } = {}): Stack {
  const paths = stackPaths(opts.home);
  const addresses = opts.addresses ?? stackAddresses();
  // Kafka first: its JVM boots in the background while PostgreSQL runs initdb.
  return createStackOf(paths, addresses, [
    createKafka({ paths, port: addresses.kafkaPort, controllerPort: addresses.kafkaControllerPort }),
    createPostgres({ paths, port: addresses.postgresPort }),
    createRedis({ paths, port: addresses.redisPort }),
  ]);
}

/** Tracer's own processes (ingest gateway, raw consumer, host agent): a layer above the servers. */
export function createServiceStack(opts: { home?: string; addresses?: StackAddresses } = {}): Stack {
  const paths = stackPaths(opts.home);
  const addresses = opts.addresses ?? stackAddresses();
  // Consumers first: the agent's first batches find someone reading them.
  return createStackOf(paths, addresses, [
    createIngestConsumer({ paths, addresses }),
    createAttributionService({ paths, addresses }),
    createInsightsService({ paths, addresses }),
    createIngestGateway({ paths, addresses }),
    createHostAgent({ paths, addresses }),
  ]);
}

/** Start order, readiness, port checks and the lock, for any list of LocalServers. */
export function createStackOf(paths: StackPaths, addresses: StackAddresses, servers: LocalServer[]): Stack {
  const quiet: Progress = () => {};

  return {
    paths,
    addresses,
    servers,

    async status() {
      return Promise.all(
        servers.map(async (server) => {
          const status = await server.status();
          // A stopped server whose port someone else holds will not start: say so now.
          if (status.state === 'stopped') {
            for (const { port, envVar } of server.ports) {
              if (!(await isPortFree(port))) {
                status.reason = `port ${port} is in use by ${portHolder(port) ?? 'another program'}; change ${envVar}`;
                break;
              }
            }
          }
          return { server, status };
        }),
      );
    },

    async up(progress = quiet) {
      return withLock(paths, progress, async () => {
        const toStart: LocalServer[] = [];
        for (const server of servers) {
          const st = await server.status();
          if (st.state === 'running') continue;
          if (st.state === 'failed' && st.pid !== undefined) {
            // Ours and alive but not answering: most likely still booting from an interrupted up.
            progress(`${server.name}: ${st.reason}; waiting for it`);
            const ready = await server.waitReady(progress, readyTimeoutMs[server.name] ?? 60_000).then(
              () => true,
              () => false,
            );
            if (ready) continue;
            progress(`${server.name}: restarting`);
            await server.stop(progress);
          } else if (st.state === 'failed') {
            progress(`${server.name}: ${st.reason}; starting it again`);
          }
          toStart.push(server);
        }
        // Every port is checked before anything starts, so a conflict leaves nothing half-up.
        for (const server of toStart) {
          for (const { port, envVar } of server.ports) await assertPortFree(server.name, port, envVar);
        }
        for (const server of toStart) await server.start(progress);
        for (const server of toStart) {
          const t0 = Date.now();
          await server.waitReady(progress, readyTimeoutMs[server.name] ?? 60_000);
          progress(`${server.name}: ready on ${server.address} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
        }
        return { started: toStart.map((s) => s.name) };
      });
    },

    async down(progress = quiet, names) {
      await withLock(paths, progress, async () => {
        for (const server of [...servers].reverse()) {
          if (names === undefined || names.includes(server.name)) await server.stop(progress);
        }
      });
    },
  };
}

/** Runs fn holding .tracer/run/stack.lock; waits for a live holder, takes over from a dead one. */
async function withLock<T>(paths: StackPaths, progress: Progress, fn: () => Promise<T>): Promise<T> {
  ensureDirs(paths.run);
  const lockFile = join(paths.run, 'stack.lock');
  const mine = `${lockFile}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`);
  let told = false;
  try {
    for (;;) {
      try {
        // link() is atomic: the lock appears with its holder's pid already in it.
        linkSync(mine, lockFile);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number.parseInt(readIfExists(lockFile), 10);
      if (Number.isNaN(holder)) continue; // released meanwhile
      if (!isAlive(holder)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (!told) progress(`waiting for another tracer up/down (pid ${holder}) to finish`);
      told = true;
      await sleep(250);
    }
  } finally {
    rmSync(mine, { force: true });
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
