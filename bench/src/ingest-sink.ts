// The raw consumer's database write alone (PostgresSink.writeTenant, no HTTP, no Kafka), for
// profiling its two costs apart: the consumer's CPU (this process) and PostgreSQL's (the
// backend's, from /proc). The same synthetic agents as `pnpm run ingest`, in transactions of
// BENCH_TX_EVENTS events, then the same rows with a raw COPY into the same tables.
//
//   pnpm run ingest-sink        (BENCH_EVENTS, BENCH_AGENTS, BENCH_SAMPLES, BENCH_TX_EVENTS)
import { readFileSync } from 'node:fs';
import { migrate } from '@tracer/db';
import { stackAddresses } from '@tracer/local';
import pg from 'pg';
import { agentStream, envNumber as num } from './ingest-events.ts';

const EVENTS = num('BENCH_EVENTS', 400_000);
const AGENTS = num('BENCH_AGENTS', 8);
const SAMPLES = num('BENCH_SAMPLES', 4);
const TX_EVENTS = num('BENCH_TX_EVENTS', 8000);

/** CPU seconds (user + system) of a process, from /proc. */
const cpuOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

const { PostgresSink } = (await import(
  process.env.BENCH_SINK ?? '../../services/ingest/src/adapters/postgres-sink.ts'
)) as typeof import('../../services/ingest/src/adapters/postgres-sink.ts');
const stack = stackAddresses();
const runId = Date.now().toString(36);
const dbName = `tracer_bench_sink_${runId}`;
const dbUrl = (() => {
  const u = new URL(stack.databaseUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const admin = new pg.Client({ connectionString: stack.databaseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
try {
  await migrate({ databaseUrl: dbUrl });
  const pool = new pg.Pool({
    connectionString: process.env.BENCH_PG_OPTIONS
      ? `${dbUrl}?options=${encodeURIComponent(process.env.BENCH_PG_OPTIONS)}`
      : dbUrl,
    max: 1,
  });
  const backend = Number((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const sink = new PostgresSink(pool);
  const tenant = `sink-${runId}`;
  const perAgent = Math.ceil(EVENTS / AGENTS / (4 + SAMPLES));
  const agents = Array.from({ length: AGENTS }, (_, a) =>
    agentStream({ tenant, host: `h${a}`, agentId: `a${a}`, processes: perAgent, samples: SAMPLES, batchEvents: 1e9 }),
  );
  const total = agents.reduce((n, a) => n + a.events.length, 0);
  // BENCH_STATEMENTS=1: wall time per kind of statement (its first words).
  const statements = new Map<string, { n: number; ms: number }>();
  if (process.env.BENCH_STATEMENTS === '1') {
    const client = await pool.connect();
    const proto = Object.getPrototypeOf(client) as { query: (...args: unknown[]) => unknown };
    client.release();
    const query = proto.query;
    proto.query = function (this: unknown, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? 'copy');
      const kind = text.trim().replace(/\s+/g, ' ').slice(0, 60);
      const start = performance.now();
      const result = query.apply(this, args);
      if (result instanceof Promise) {
        result.then(() => {
          const s = statements.get(kind) ?? { n: 0, ms: 0 };
          s.n++;
          s.ms += performance.now() - start;
          statements.set(kind, s);
        });
      }
      return result;
    };
  }
  const own0 = process.cpuUsage();
  const pg0 = cpuOf(backend);
  const t0 = performance.now();
  for (let i = 0; i < agents[0]!.events.length; i += TX_EVENTS) {
    for (const agent of agents) {
      const events = agent.events.slice(i, i + TX_EVENTS).map((event) => ({ event }));
      if (events.length > 0) await sink.writeTenant(tenant, events, async () => {});
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(own0);
  const pgCpu = cpuOf(backend) - pg0;
  const us = (s: number) => ((s * 1e6) / total).toFixed(2);
  process.stdout.write(
    `sink: ${total.toLocaleString('en-US')} events in transactions of ${TX_EVENTS}: ${Math.round(total / seconds).toLocaleString('en-US')} events/s; ` +
      `per event ${us((own.user + own.system) / 1e6)} us consumer CPU, ${us(pgCpu)} us PostgreSQL CPU\n`,
  );
  for (const [kind, s] of [...statements].sort((a, b) => b[1].ms - a[1].ms))
    process.stdout.write(`  ${s.ms.toFixed(0).padStart(6)} ms ${String(s.n).padStart(5)}x ${kind}\n`);
  await pool.end();
} finally {
  await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  await admin.end();
}
