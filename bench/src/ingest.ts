// Ingest throughput and latency (issue 4). Sustained events per second from agent batches
// through the gateway (HTTP, API key), Kafka (acks=all) and the raw consumer into PostgreSQL,
// then the same rows loaded with a raw COPY in the same run as the physical ceiling, and
// agent-to-database latency at half the measured throughput. Prints its figures.
//
//   pnpm --filter @tracer/bench run ingest            (the local stack must be up: ./tracer up)
//   BENCH_EVENTS=2000000 BENCH_AGENTS=16 BENCH_BATCH=2000 ... to change the sizes
//
// The gateway and the raw consumer run as their own processes (src/gateway/main.ts,
// src/consumer/main.ts) on a database and topics made for this run and dropped after it.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createKafkaBus } from '@tracer/bus';
import { migrate } from '@tracer/db';
import { BATCH_CONTENT_TYPE, createApiKey, toRows } from '@tracer/ingest';
import { repoRoot, stackAddresses, stackPaths } from '@tracer/local';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { type AgentStream, agentStream, envNumber as num } from './ingest-events.ts';

const EVENTS = num('BENCH_EVENTS', 1_000_000);
const AGENTS = num('BENCH_AGENTS', 16);
const BATCH = num('BENCH_BATCH', 2000);
const SAMPLES = num('BENCH_SAMPLES', 4);
const PARTITIONS = num('BENCH_PARTITIONS', 8);
const LATENCY_SECONDS = num('BENCH_LATENCY_SECONDS', 20);
const CONSUMERS = num('BENCH_CONSUMERS', 1);
const CONSUMER_CONCURRENCY = num('BENCH_CONSUMER_CONCURRENCY', 4);
const KEEP = process.env.BENCH_KEEP === '1';
/** Parallel COPY connections for the ceiling: one per CPU, so the ceiling uses the whole machine. */
const COPY_STREAMS = num('BENCH_COPY_STREAMS', availableParallelism());

const stack = stackAddresses();
const runId = `${Date.now().toString(36)}`;
const dbName = `tracer_bench_ingest_${runId}`;
const dbUrl = (() => {
  const u = new URL(stack.databaseUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const tenant = `bench-${runId}`;
const rawTopic = `bench.ingest.${runId}.raw`;
const normalizedTopic = `bench.ingest.${runId}.normalized`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

function startService(script: string, env: NodeJS.ProcessEnv, name: string): ChildProcess {
  // BENCH_PROFILE=DIR writes a CPU profile of each service there (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(
    process.execPath,
    ['--disable-warning=TimeoutNegativeWarning', ...profile, join(repoRoot, script)],
    {
      env: { ...process.env, TRACER_LOG_LEVEL: process.env.TRACER_LOG_LEVEL ?? 'warn', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  child.once('exit', (code, signal) => {
    if (!stopping) log(`bench: ${name} exited early (${code ?? signal})`);
  });
  return child;
}

async function waitReady(url: string, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms (${url})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** CPU seconds (user + system) of a process and its threads, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}
/** CPU seconds of every process whose command line matches (PostgreSQL backends, the broker). */
function cpuOf(match: (cmdline: string, user: number) => boolean): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const uid = statSync(`/proc/${entry}`).uid;
      if (match(cmdline, uid)) total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
/** Busy CPU seconds of the whole machine. */
function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return (f.reduce((a, b) => a + b, 0) - idle) / 100;
}
const postgresUid = (() => {
  try {
    return statSync(join(stackPaths().data, 'postgres')).uid;
  } catch {
    return -1;
  }
})();
const POSTGRES_WRITERS = /^postgres: (walwriter|checkpointer|background writer)/;
function cpuSnapshot() {
  return {
    gateway: cpuSeconds(children[0]!.pid!),
    consumer: children.slice(1).reduce((n, c) => n + cpuSeconds(c.pid!), 0),
    // This run's backends (their title names the database) and the shared writers; other
    // people's databases on the same server are not this pipeline's cost.
    postgres: cpuOf((cmd, uid) => uid === postgresUid && (cmd.includes(` ${dbName} `) || POSTGRES_WRITERS.test(cmd))),
    kafka: cpuOf((cmd) => cmd.includes('kafka.Kafka') && cmd.includes(stackPaths().conf)),
    bench: cpuSeconds(process.pid),
    machine: machineBusySeconds(),
  };
}
type Cpu = ReturnType<typeof cpuSnapshot>;
const cpuDelta = (a: Cpu, b: Cpu) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - a[k as keyof Cpu]])) as Cpu;

let stopping = false;
const admin = new pg.Client({ connectionString: stack.databaseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
await migrate({ databaseUrl: dbUrl });
const pool = new pg.Pool({ connectionString: dbUrl, max: 4 });
const { key } = await createApiKey(pool, { tenant, team: 'bench', scopes: ['ingest'] });

const gatewayPort = await freePort();
const common = {
  TRACER_DATABASE_URL: dbUrl,
  TRACER_INGEST_RAW_TOPIC: rawTopic,
  TRACER_INGEST_NORMALIZED_TOPIC: normalizedTopic,
  TRACER_INGEST_TOPIC_PARTITIONS: String(PARTITIONS),
  TRACER_INGEST_RATE_EVENTS_PER_SECOND: '100000000',
};
const children: ChildProcess[] = [];
children.push(
  startService(
    'services/ingest/src/gateway/main.ts',
    { ...common, TRACER_INGEST_PORT: String(gatewayPort) },
    'gateway',
  ),
);
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
await waitReady(`${gatewayUrl}/readyz`, 'gateway');
const consumerUrls: string[] = [];
for (let i = 0; i < CONSUMERS; i++) {
  const port = await freePort();
  children.push(
    startService(
      'services/ingest/src/consumer/main.ts',
      {
        ...common,
        TRACER_INGEST_CONSUMER_PORT: String(port),
        TRACER_INGEST_CONSUMER_GROUP: `bench.ingest.${runId}`,
        TRACER_INGEST_CONSUMER_CONCURRENCY: String(CONSUMER_CONCURRENCY),
      },
      `consumer ${i}`,
    ),
  );
  consumerUrls.push(`http://127.0.0.1:${port}`);
}
for (const url of consumerUrls) await waitReady(`${url}/readyz`, 'consumer');

const perAgentProcesses = Math.ceil(EVENTS / AGENTS / (4 + SAMPLES));
log(
  `bench: encoding ${fmt(perAgentProcesses * (4 + SAMPLES) * AGENTS)} events for ${AGENTS} agents in batches of ${BATCH}`,
);
const makeAgents = (prefix: string, processes: number) =>
  Array.from({ length: AGENTS }, (_, a) =>
    agentStream({
      tenant,
      host: `${prefix}-host-${a}`,
      agentId: `${prefix}-agent-${a}`,
      processes,
      samples: SAMPLES,
      batchEvents: BATCH,
    }),
  );
const agents = makeAgents('tput', perAgentProcesses);
const totalEvents = agents.reduce((n, a) => n + a.events.length, 0);
const totalBatches = agents.reduce((n, a) => n + a.batches.length, 0);

async function postBatch(body: Buffer): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${gatewayUrl}/v1/ingest`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${key}`, 'content-type': BATCH_CONTENT_TYPE },
    });
    if (res.status === 202) {
      await res.arrayBuffer();
      return;
    }
    const text = await res.text();
    if (res.status < 500 && res.status !== 429) throw new Error(`gateway answered ${res.status}: ${text}`);
    await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
  }
}

async function writtenEvents(prefix: string): Promise<number> {
  const { rows } = await pool.query(
    'SELECT coalesce(sum(events_written), 0)::bigint AS n FROM ingest_agents WHERE tenant_id = $1 AND agent_id LIKE $2',
    [tenant, `${prefix}-%`],
  );
  return Number(rows[0].n);
}

// Phase 1: throughput. Every agent sends its batches one after another (an agent never has two
// in flight: its events must reach Kafka in order); all agents at once.
log(`bench: phase 1, ${fmt(totalEvents)} events in ${fmt(totalBatches)} batches as fast as the pipeline takes them`);
const cpu0 = cpuSnapshot();
const t0 = performance.now();
let acceptedAt = 0;
const sending = Promise.all(
  agents.map(async (agent) => {
    for (const batch of agent.batches) await postBatch(batch.body);
  }),
).then(() => {
  acceptedAt = performance.now();
});
for (;;) {
  const n = await writtenEvents('tput');
  if (n >= totalEvents) break;
  await new Promise((r) => setTimeout(r, 50));
}
const t1 = performance.now();
const cpu = cpuDelta(cpu0, cpuSnapshot());
await sending;
/** Handler calls of the consumers so far (each one transaction per tenant) and their seconds. */
async function consumerBatches(): Promise<{ count: number; seconds: number }> {
  let count = 0;
  let seconds = 0;
  for (const url of consumerUrls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    count += Number(/^tracer_ingest_consumer_batch_seconds_count(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? 0);
    seconds += Number(/^tracer_ingest_consumer_batch_seconds_sum(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? 0);
  }
  return { count, seconds };
}
const batches1 = await consumerBatches();
const pipelineSeconds = (t1 - t0) / 1000;
const pipelineRate = totalEvents / pipelineSeconds;
const gatewayRate = totalEvents / ((acceptedAt - t0) / 1000);
const rowCounts = (
  await pool.query(
    `SELECT (SELECT count(*) FROM processes WHERE tenant_id = $1) AS processes,
            (SELECT count(*) FROM process_samples WHERE tenant_id = $1) AS samples,
            (SELECT count(*) FROM process_logs WHERE tenant_id = $1) AS logs,
            (SELECT count(*) FROM file_opens WHERE tenant_id = $1) AS file_opens`,
    [tenant],
  )
).rows[0];

// Phase 2: the same rows with a raw COPY (no HTTP, no Kafka, no dedupe, no upsert), under a
// tenant of its own so nothing conflicts: the physical ceiling of these tables on this disk.
const copyTenant = `${tenant}-copy`;
const bootWall = (a: AgentStream) => a.events[0]!.ts - 3_600_000_000_000;
const copyText: Record<string, string[]> = { processes: [], process_samples: [], process_logs: [], file_opens: [] };
const esc = (v: unknown): string => {
  if (v === null || v === undefined) return '\\N';
  const s =
    typeof v === 'string'
      ? v
      : Array.isArray(v)
        ? `{${v.map((x) => `"${String(x).replace(/["\\]/g, '\\$&')}"`).join(',')}}`
        : typeof v === 'object'
          ? JSON.stringify(v)
          : String(v);
  return s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
};
const isoUs = (us: number | null) =>
  us === null
    ? null
    : `${new Date(Math.floor(us / 1000)).toISOString().slice(0, -1)}${String(us % 1000).padStart(3, '0')}Z`;
for (const agent of agents) {
  const rows = toRows(agent.events, () => bootWall(agent));
  for (const p of rows.processes) {
    copyText.processes!.push(
      [
        copyTenant,
        p.host,
        p.upid,
        isoUs(p.start_ts_us),
        isoUs(p.end_ts_us),
        p.pid,
        p.ppid,
        p.parent_upid,
        p.uid,
        p.exe,
        p.argv,
        p.argv_truncated,
        p.cwd,
        p.comm,
        p.cgroup_id,
        p.container_id,
        p.env,
        p.exit_code,
        p.exit_code_unknown,
        p.signal,
        p.core_dumped,
        p.duration_ns,
        p.cpu_user_ns,
        p.cpu_sys_ns,
        p.peak_rss_bytes,
        p.read_bytes,
        p.write_bytes,
        p.storage_read_bytes,
        p.storage_write_bytes,
        p.io_wait_ns,
        p.net_send_bytes,
        p.net_recv_bytes,
        p.sampled,
        p.agent_id,
        p.exec_seq,
        p.exit_seq,
      ]
        .map(esc)
        .join('\t'),
    );
  }
  for (const s of rows.processSamples) {
    copyText.process_samples!.push(
      [
        copyTenant,
        s.host,
        s.upid,
        isoUs(s.ts_us),
        s.cpu_ns,
        s.rss_bytes,
        s.read_bytes,
        s.write_bytes,
        s.io_wait_ns,
        s.net_send_bytes,
        s.net_recv_bytes,
        s.state,
        s.threads,
        s.sampled,
        s.agent_id,
        s.seq,
      ]
        .map(esc)
        .join('\t'),
    );
  }
  for (const l of rows.logs) {
    copyText.process_logs!.push(
      [
        copyTenant,
        l.host,
        l.agent_id,
        l.seq,
        isoUs(l.ts_us),
        l.upid,
        l.pid,
        l.stream,
        l.text,
        l.dropped_bytes,
        l.sampled,
      ]
        .map(esc)
        .join('\t'),
    );
  }
  for (const f of rows.fileOpens) {
    copyText.file_opens!.push(
      [copyTenant, f.host, f.agent_id, f.seq, isoUs(f.ts_us), f.upid, f.pid, f.path, f.flags, f.error, f.sampled]
        .map(esc)
        .join('\t'),
    );
  }
}
const copyColumns: Record<string, string> = {
  processes:
    'tenant_id, host, upid, start_ts, end_ts, pid, ppid, parent_upid, uid, exe, argv, argv_truncated, cwd, comm, cgroup_id, container_id, env, exit_code, exit_code_unknown, signal, core_dumped, duration_ns, cpu_user_ns, cpu_sys_ns, peak_rss_bytes, read_bytes, write_bytes, storage_read_bytes, storage_write_bytes, io_wait_ns, net_send_bytes, net_recv_bytes, sampled, agent_id, exec_seq, exit_seq',
  process_samples:
    'tenant_id, host, upid, ts, cpu_ns, rss_bytes, read_bytes, write_bytes, io_wait_ns, net_send_bytes, net_recv_bytes, state, threads, sampled, agent_id, seq',
  process_logs: 'tenant_id, host, agent_id, seq, ts, upid, pid, stream, text, dropped_bytes, sampled',
  file_opens: 'tenant_id, host, agent_id, seq, ts, upid, pid, path, flags, error, sampled',
};
/** Loads copyText under `tenantId` through `streams` connections at once; returns the seconds it took. */
async function copyAll(tenantId: string, streams: number): Promise<{ seconds: number; cpu: Cpu }> {
  const clients = await Promise.all(
    Array.from({ length: streams }, async () => {
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      return c;
    }),
  );
  const cpuStart = cpuSnapshot();
  const start = performance.now();
  await Promise.all(
    clients.map(async (client, stream) => {
      for (const [table, all] of Object.entries(copyText)) {
        const lines = all.filter((_, i) => i % streams === stream);
        const chunks = function* () {
          for (let i = 0; i < lines.length; i += 10_000)
            yield `${lines
              .slice(i, i + 10_000)
              .map((l) => tenantId + l.slice(l.indexOf('\t')))
              .join('\n')}\n`;
        };
        await pipeline(
          Readable.from(chunks()),
          client.query(copyFrom(`COPY ${table} (${copyColumns[table]}) FROM STDIN`)),
        );
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpu = cpuDelta(cpuStart, cpuSnapshot());
  await Promise.all(clients.map((c) => c.end()));
  return { seconds, cpu };
}
log('bench: phase 2, the same rows with COPY: one connection, then one per CPU');
const copyOne = await copyAll(`${copyTenant}-1`, 1);
const copyMany = COPY_STREAMS > 1 ? await copyAll(`${copyTenant}-n`, COPY_STREAMS) : copyOne;
const copySeconds = Math.min(copyOne.seconds, copyMany.seconds);
const copyRate = totalEvents / copySeconds;
/**
 * Share of the machine other people's processes took during a phase (the host is shared): a
 * phase's rate divided by what was left of the machine compares phases run under different
 * background load. An estimate: it assumes the rate scales with the CPU left.
 */
const othersShare = (c: Cpu, seconds: number) =>
  Math.min(
    0.9,
    Math.max(
      0,
      (c.machine - c.gateway - c.consumer - c.postgres - c.kafka - c.bench) / (seconds * availableParallelism()),
    ),
  );
const leftAdjusted = (rate: number, c: Cpu, seconds: number) => rate / (1 - othersShare(c, seconds));
const pipelineUs = ((cpu.gateway + cpu.consumer + cpu.postgres + cpu.kafka) * 1e6) / totalEvents;
const pipelineAdjusted = leftAdjusted(pipelineRate, cpu, pipelineSeconds);
const copyAdjusted = Math.max(
  leftAdjusted(totalEvents / copyOne.seconds, copyOne.cpu, copyOne.seconds),
  leftAdjusted(totalEvents / copyMany.seconds, copyMany.cpu, copyMany.seconds),
);

// Phase 3: latency at half the measured throughput. Batches are due on a fixed schedule; an
// event's latency runs from when its batch was due (not when it went out, so a backed-up
// sender cannot hide delay) to when its agent's watermark in the database covered it.
const halfRate = pipelineRate / 2;
const latencyEvents = Math.ceil(halfRate * LATENCY_SECONDS);
const latencyAgents = makeAgents('lat', Math.ceil(latencyEvents / AGENTS / (4 + SAMPLES)));
const schedule: { agent: AgentStream; batch: AgentStream['batches'][number]; dueMs: number }[] = [];
{
  const perAgentRate = halfRate / AGENTS;
  for (const agent of latencyAgents) {
    let due = Math.random() * (BATCH / perAgentRate) * 1000;
    for (const batch of agent.batches) {
      schedule.push({ agent, batch, dueMs: due });
      due += (batch.events / perAgentRate) * 1000;
    }
  }
}
log(`bench: phase 3, ${fmt(halfRate)} events/s (half of phase 1) for ${LATENCY_SECONDS} s: agent-to-database latency`);
const latencies: number[] = [];
const pending = new Map<string, { lastSeq: number; dueMs: number; events: number }[]>();
for (const s of schedule) {
  const list = pending.get(s.agent.agentId) ?? [];
  list.push({ lastSeq: s.batch.lastSeq, dueMs: s.dueMs, events: s.batch.events });
  pending.set(s.agent.agentId, list);
}
const l0 = performance.now();
const senders = latencyAgents.map(async (agent) => {
  for (const s of schedule.filter((x) => x.agent === agent)) {
    const wait = l0 + s.dueMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await postBatch(s.batch.body);
  }
});
let left = schedule.length;
const poller = new pg.Client({ connectionString: dbUrl });
await poller.connect();
while (left > 0) {
  const { rows } = await poller.query<{ agent_id: string; max_seq: string }>(
    "SELECT agent_id, max_seq FROM ingest_agents WHERE tenant_id = $1 AND agent_id LIKE 'lat-%'",
    [tenant],
  );
  const now = performance.now() - l0;
  for (const r of rows) {
    const list = pending.get(r.agent_id)!;
    while (list.length > 0 && list[0]!.lastSeq <= Number(r.max_seq)) {
      const b = list.shift()!;
      for (let i = 0; i < b.events; i += 100) latencies.push(now - b.dueMs);
      left--;
    }
  }
  if (performance.now() - l0 > (LATENCY_SECONDS + 120) * 1000) throw new Error('latency phase did not finish');
  await new Promise((r) => setTimeout(r, 2));
}
await Promise.all(senders);
await poller.end();
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;

stopping = true;
for (const c of children) c.kill('SIGTERM');
await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
await pool.end();
if (!KEEP) {
  await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  const bus = createKafkaBus({ brokers: stack.kafkaBrokers, clientId: 'tracer-bench' });
  await bus.deleteTopics([rawTopic, `${rawTopic}.dlq`, normalizedTopic]);
  await bus.close();
}
await admin.end();

const lines = [
  `ingest benchmark (${availableParallelism()} CPUs; gateway, ${CONSUMERS} raw consumer(s) x ${CONSUMER_CONCURRENCY} partitions at once, Kafka, PostgreSQL all on this machine)`,
  `  events: ${fmt(totalEvents)} from ${AGENTS} agents, batches of ${BATCH}, ${PARTITIONS} partitions; rows: ${fmt(Number(rowCounts.processes))} processes, ${fmt(Number(rowCounts.samples))} process samples, ${fmt(Number(rowCounts.logs))} logs, ${fmt(Number(rowCounts.file_opens))} file opens`,
  `  end to end (agent batches -> gateway -> Kafka -> raw consumer -> PostgreSQL): ${fmt(pipelineRate)} events/s (${pipelineSeconds.toFixed(1)} s; gateway accepted all in ${((acceptedAt - t0) / 1000).toFixed(1)} s = ${fmt(gatewayRate)} events/s)`,
  `  consumer: ${fmt(batches1.count)} batches (transactions) of ${fmt(totalEvents / Math.max(1, batches1.count))} events on average, ${((batches1.seconds * 1000) / Math.max(1, batches1.count)).toFixed(0)} ms each`,
  `  raw COPY of the same rows, 1 connection:  ${fmt(totalEvents / copyOne.seconds)} events/s (${copyOne.seconds.toFixed(1)} s; PostgreSQL ${((copyOne.cpu.postgres * 1e6) / totalEvents).toFixed(1)} us CPU per event)`,
  `  raw COPY of the same rows, ${COPY_STREAMS} connections: ${fmt(totalEvents / copyMany.seconds)} events/s (${copyMany.seconds.toFixed(1)} s; PostgreSQL ${((copyMany.cpu.postgres * 1e6) / totalEvents).toFixed(1)} us CPU per event)`,
  `  ratio end to end / best COPY: ${((pipelineRate / copyRate) * 100).toFixed(0)}% (/ 1-connection COPY: ${((pipelineRate * copyOne.seconds * 100) / totalEvents).toFixed(0)}%)`,
  `  adjusted for the other processes on this shared host (rate / share of the machine left to this run): end to end ${fmt(pipelineAdjusted)} events/s (others took ${(othersShare(cpu, pipelineSeconds) * 100).toFixed(0)}%), COPY ${fmt(copyAdjusted)} events/s (others took ${(othersShare(copyOne.cpu, copyOne.seconds) * 100).toFixed(0)}% / ${(othersShare(copyMany.cpu, copyMany.seconds) * 100).toFixed(0)}%), ratio ${((pipelineAdjusted / copyAdjusted) * 100).toFixed(0)}%`,
  `  CPU during end to end (s of ${(pipelineSeconds * availableParallelism()).toFixed(1)} available): gateway ${cpu.gateway.toFixed(1)}, raw consumer ${cpu.consumer.toFixed(1)}, PostgreSQL ${cpu.postgres.toFixed(1)}, Kafka ${cpu.kafka.toFixed(1)}, load generator ${cpu.bench.toFixed(1)}, everything else ${(cpu.machine - cpu.gateway - cpu.consumer - cpu.postgres - cpu.kafka - cpu.bench).toFixed(1)}; per event: ${((cpu.gateway * 1e6) / totalEvents).toFixed(1)} us gateway, ${((cpu.consumer * 1e6) / totalEvents).toFixed(1)} us consumer, ${((cpu.postgres * 1e6) / totalEvents).toFixed(1)} us PostgreSQL`,
  `  pipeline CPU (gateway + consumer + PostgreSQL + Kafka): ${pipelineUs.toFixed(1)} us per event, so at most ${fmt((availableParallelism() * 1e6) / pipelineUs)} events/s if these ${availableParallelism()} CPUs ran nothing else (load generator excluded)`,
  `  latency at ${fmt(halfRate)} events/s (half load), batch due -> rows committed: p50 ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms, max ${latencies[latencies.length - 1]!.toFixed(0)} ms`,
];
process.stdout.write(`${lines.join('\n')}\n`);
