// Redis 7 from Debian on its own loopback port. BullMQ requires `maxmemory-policy noeviction`
// (an evicted job key is a lost job); append-only persistence keeps queues across down/up.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { StackPaths } from './paths.ts';
import { ensureDirs } from './paths.ts';
import { assertPortFree } from './ports.ts';
import { ownedOrStatus, ownedPid, run, tail, terminate, waitUntil } from './processes.ts';
import { type LocalServer, type Progress, type ServerStatus, StackError } from './server.ts';

export interface RedisOptions {
  paths: StackPaths;
  port: number;
}

/** PING through ioredis, the client BullMQ uses; false instead of throwing. */
export async function pingRedis(port: number, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export function createRedis({ paths, port }: RedisOptions): LocalServer {
  const dataDir = join(paths.data, 'redis');
  const pidFile = join(paths.run, 'redis.pid');
  const logFile = join(paths.log, 'redis.log');
  const address = `127.0.0.1:${port}`;

  return {
    name: 'redis',
    address,
    logFile,
    ports: [{ port, envVar: 'TRACER_REDIS_PORT' }],

    async status(): Promise<ServerStatus> {
      // Redis removes its pid file on a clean shutdown; one left behind means a crash or a reboot.
      const { pid, status } = ownedOrStatus(pidFile, dataDir, `exited without shutting down; see ${logFile}`);
      if (status) return status;
      if (await pingRedis(port)) return { state: 'running', pid };
      return { state: 'failed', pid, reason: `pid ${pid} does not answer PING on ${address}; see ${logFile}` };
    },

    async start(progress: Progress): Promise<void> {
      ensureDirs(dataDir, paths.run, paths.log);
      if (existsSync(pidFile) && ownedPid(pidFile, dataDir) === undefined) rmSync(pidFile);
      await assertPortFree('redis', port, 'TRACER_REDIS_PORT');
      progress(`redis: starting on ${address}`);
      // redis-server forks into the background itself (daemonize) once its config is valid.
      const res = await run(
        'redis-server',
        [
          ...['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes'],
          ...['--dir', dataDir, '--pidfile', pidFile, '--logfile', logFile, '--daemonize', 'yes'],
          ...['--maxmemory-policy', 'noeviction', '--appendonly', 'yes', '--supervised', 'no'],
        ],
        { cwd: dataDir, detached: true },
      );
      if (res.code !== 0) {
        throw new StackError(`redis: redis-server failed to start (exit ${res.code}): ${res.output}\n${tail(logFile)}`);
      }
    },

    async waitReady(progress: Progress, timeoutMs: number): Promise<void> {
      const ok = await waitUntil(async () => ownedPid(pidFile, dataDir) !== undefined && (await pingRedis(port)), {
        timeoutMs,
        onWait: (s) => progress(`redis: still waiting for PING (${s}s)`),
      });
      if (!ok) {
        throw new StackError(
          `redis: no PONG from ${address} after ${timeoutMs / 1000}s. See ${logFile}:\n${tail(logFile)}`,
        );
      }
    },

    async stop(progress: Progress): Promise<void> {
      const pid = ownedPid(pidFile, dataDir);
      if (pid === undefined) return;
      progress('redis: stopping');
      // SIGTERM makes Redis flush the append-only file and remove its pid file.
      await terminate(pid, 30_000);
    },
  };
}
