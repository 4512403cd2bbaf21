// Tracer's own processes in the local stack, in the same LocalServer shape as Kafka, PostgreSQL
// and Redis: the ingest gateway, the raw consumer, attribution, insights and a host agent. Each runs detached from
// its own folder under .tracer/data (which is how ownedPid recognises it), logs to
// .tracer/log/<name>.log, and counts as running only when it answers: /readyz for the ingest
// processes, a fresh status.json for the agent. They start after the servers and after the
// migrations (they need the tables), and stop before the servers.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackAddresses } from './addresses.ts';
import { ensureDirs, repoRoot, type StackPaths } from './paths.ts';
import { assertPortFree } from './ports.ts';
import { isAlive, ownedOrStatus, ownedPid, readPid, spawnDetached, tail, terminate, waitUntil } from './processes.ts';
import { type LocalServer, type Progress, type ServerStatus, StackError } from './server.ts';

const NODE_FLAGS = ['--disable-warning=ExperimentalWarning', '--disable-warning=TimeoutNegativeWarning'];

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new Error(`${name}=${JSON.stringify(raw)} is not a TCP port (1-65535)`);
  return n;
}

/** Ports of Tracer's own processes (loopback, like the servers'). */
export function servicePorts(): { gateway: number; consumer: number; attribution: number; insights: number } {
  return {
    gateway: port('TRACER_INGEST_PORT', 18100),
    consumer: port('TRACER_INGEST_CONSUMER_PORT', 18101),
    attribution: port('TRACER_ATTRIBUTION_PORT', 18102),
    insights: port('TRACER_INSIGHTS_PORT', 18103),
  };
}

/** The environment every Tracer process gets: where the stack's servers listen. */
function stackEnv(addresses: StackAddresses): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TRACER_KAFKA_BROKERS: addresses.kafkaBrokers.join(','),
    TRACER_DATABASE_URL: addresses.databaseUrl,
    TRACER_REDIS_URL: addresses.redisUrl,
  };
}

async function ready(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

interface NodeServiceSpec {
  name: string;
  /** Entry point, relative to the repository root. */
  script: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  paths: StackPaths;
  address: string;
  ports: { port: number; envVar: string }[];
  /** True when the process does its job (a real call, not an open port). */
  answers(): Promise<boolean>;
  /** What "not answering" means, for status. */
  notAnswering: string;
}

function nodeService(spec: NodeServiceSpec): LocalServer {
  const dataDir = join(spec.paths.data, spec.name);
  const pidFile = join(spec.paths.run, `${spec.name}.pid`);
  const logFile = join(spec.paths.log, `${spec.name}.log`);
  return {
    name: spec.name,
    address: spec.address,
    logFile,
    ports: spec.ports,

    async status(): Promise<ServerStatus> {
      const { pid, status } = ownedOrStatus(pidFile, dataDir, `exited without being stopped; see ${logFile}`);
      if (status) return status;
      if (await spec.answers()) return { state: 'running', pid };
      return { state: 'failed', pid, reason: `pid ${pid} ${spec.notAnswering}; see ${logFile}` };
    },

    async start(progress: Progress): Promise<void> {
      ensureDirs(dataDir, spec.paths.run, spec.paths.log);
      rmSync(pidFile, { force: true });
      for (const p of spec.ports) await assertPortFree(spec.name, p.port, p.envVar);
      progress(`${spec.name}: starting (${spec.address})`);
      const pid = await spawnDetached(
        process.execPath,
        [...NODE_FLAGS, join(repoRoot, spec.script), ...(spec.args ?? [])],
        {
          cwd: dataDir,
          outFile: logFile,
          env: spec.env,
        },
      );
      writeFileSync(pidFile, `${pid}\n`);
    },

    async waitReady(progress: Progress, timeoutMs: number): Promise<void> {
      let exited = false;
      const ok = await waitUntil(
        async () => {
          const pid = readPid(pidFile);
          if (pid === undefined || !isAlive(pid)) {
            exited = true;
            return true;
          }
          return spec.answers();
        },
        { timeoutMs, intervalMs: 250, onWait: (s) => progress(`${spec.name}: still waiting (${s}s)`) },
      );
      if (exited) throw new StackError(`${spec.name}: exited during start-up. See ${logFile}:\n${tail(logFile)}`);
      if (!ok)
        throw new StackError(`${spec.name}: not ready after ${timeoutMs / 1000}s. See ${logFile}:\n${tail(logFile)}`);
    },

    async stop(progress: Progress): Promise<void> {
      const pid = ownedPid(pidFile, dataDir);
      if (pid !== undefined) {
        progress(`${spec.name}: stopping`);
        // SIGTERM: in-flight requests and batches finish and commit first.
        await terminate(pid, 60_000);
      }
      rmSync(pidFile, { force: true });
    },
  };
}

/** The ingest gateway (services/ingest/src/gateway/main.ts): POST /v1/ingest for agents. */
export function createIngestGateway(opts: {
  paths: StackPaths;
  addresses: StackAddresses;
  port?: number;
}): LocalServer {
  const p = opts.port ?? servicePorts().gateway;
  return nodeService({
    name: 'ingest-gateway',
    script: 'services/ingest/src/gateway/main.ts',
    env: { ...stackEnv(opts.addresses), TRACER_INGEST_HOST: '127.0.0.1', TRACER_INGEST_PORT: String(p) },
    paths: opts.paths,
    address: `http://127.0.0.1:${p}`,
    ports: [{ port: p, envVar: 'TRACER_INGEST_PORT' }],
    answers: () => ready(`http://127.0.0.1:${p}/readyz`),
    notAnswering: `does not answer GET /readyz with 200 on 127.0.0.1:${p}`,
  });
}

/**
 * A Kafka consumer service with a health endpoint: ready when GET /readyz answers 200 (it
 * joined its consumer group and its database answers).
 */
function consumerService(opts: {
  name: string;
  script: string;
  paths: StackPaths;
  addresses: StackAddresses;
  port: number;
  /** The service's own variables for its HTTP listener. */
  hostVar: string;
  portVar: string;
}): LocalServer {
  const p = opts.port;
  return nodeService({
    name: opts.name,
    script: opts.script,
    env: { ...stackEnv(opts.addresses), [opts.hostVar]: '127.0.0.1', [opts.portVar]: String(p) },
    paths: opts.paths,
    address: `http://127.0.0.1:${p}`,
    ports: [{ port: p, envVar: opts.portVar }],
    answers: () => ready(`http://127.0.0.1:${p}/readyz`),
    notAnswering: `does not answer GET /readyz with 200 on 127.0.0.1:${p} (joined no consumer group yet?)`,
  });
}

interface ServiceOptions {
  paths: StackPaths;
  addresses: StackAddresses;
  port?: number;
}

/** The raw consumer (services/ingest/src/consumer/main.ts): telemetry.raw.v1 -> PostgreSQL. */
export const createIngestConsumer = (opts: ServiceOptions): LocalServer =>
  consumerService({
    ...opts,
    name: 'ingest-consumer',
    script: 'services/ingest/src/consumer/main.ts',
    port: opts.port ?? servicePorts().consumer,
    hostVar: 'TRACER_INGEST_CONSUMER_HOST',
    portVar: 'TRACER_INGEST_CONSUMER_PORT',
  });

/** Attribution (services/attribution): normalized telemetry -> runs, steps, tasks, tools; tasks.v1. */
export const createAttributionService = (opts: ServiceOptions): LocalServer =>
  consumerService({
    ...opts,
    name: 'attribution',
    script: 'services/attribution/src/service/main.ts',
    port: opts.port ?? servicePorts().attribution,
    hostVar: 'TRACER_ATTRIBUTION_HTTP_HOST',
    portVar: 'TRACER_ATTRIBUTION_PORT',
  });

/** Insights (services/insights): telemetry and tasks.v1 -> insights table and insights.v1. */
export const createInsightsService = (opts: ServiceOptions): LocalServer =>
  consumerService({
    ...opts,
    name: 'insights',
    script: 'services/insights/src/service/main.ts',
    port: opts.port ?? servicePorts().insights,
    hostVar: 'TRACER_INSIGHTS_HOST',
    portVar: 'TRACER_INSIGHTS_PORT',
  });

/**
 * A host agent for this machine (`tracer agent start`), writing to the stack's Kafka as tenant
 * TRACER_TENANT (default `local`); with `gateway` it goes through the ingest gateway with the
 * key in `gateway.apiKeyFile` instead. Its spool is .tracer/data/agent/spool.
 */
export function createHostAgent(opts: {
  paths: StackPaths;
  addresses: StackAddresses;
  gateway?: { url: string; apiKeyFile: string };
}): LocalServer {
  const spoolDir = join(opts.paths.data, 'agent', 'spool');
  const args = ['agent', 'start', '--spool-dir', spoolDir];
  if (opts.gateway) args.push('--gateway', opts.gateway.url, '--api-key-file', opts.gateway.apiKeyFile);
  else
    args.push(
      '--sink',
      'kafka',
      '--brokers',
      opts.addresses.kafkaBrokers.join(','),
      '--tenant',
      process.env.TRACER_TENANT || 'local',
    );
  return nodeService({
    name: 'agent',
    script: 'packages/cli/src/main.ts',
    args,
    env: stackEnv(opts.addresses),
    paths: opts.paths,
    address: opts.gateway ? `-> ${opts.gateway.url}` : `-> kafka ${opts.addresses.kafkaBrokers.join(',')}`,
    ports: [],
    // Running = its status file was rewritten in the last 10 s (it is every 2 s) by a live agent.
    answers: async () => {
      try {
        const status = JSON.parse(readFileSync(join(spoolDir, 'status.json'), 'utf8')) as {
          state: string;
          updatedAt: string;
        };
        return status.state === 'running' && Date.now() - Date.parse(status.updatedAt) < 10_000;
      } catch {
        return false;
      }
    },
    notAnswering: `has not written ${join(spoolDir, 'status.json')} in 10 s`,
  });
}
