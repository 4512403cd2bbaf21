// Kafka stopped for 30 s while two agents keep tracing this host: one writing to Kafka
// directly, one through the gateway. Both spool, then replay in order once Kafka is back, and
// the database ends complete: every sequence number of each agent written once, no gap, and
// every command run during the outage present. The Kafka here is a second broker of this
// test's own, on spare ports, so the shared stack's Kafka is never stopped.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createKafka, type LocalServer, stackPaths } from '@tracer/local';
import { createApiKey } from '../src/adapters/postgres-keys.ts';
import type { RunningConsumer } from '../src/consumer/server.ts';
import type { RunningGateway } from '../src/gateway/server.ts';
import { eventually, type IngestEnv, ingestEnv, runConsumer, runGateway, uniqueTenant } from './helpers.ts';

const tracer = fileURLToPath(new URL('../../../tracer', import.meta.url));
const OUTAGE_MS = 30_000;

async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (next && port < 65535) return port;
  }
}

describe('Kafka outage', () => {
  const quiet = () => {};
  let home: string;
  let kafka: LocalServer;
  let env: IngestEnv;
  let gateway: RunningGateway;
  let consumer: RunningConsumer;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'tracer-kafka-outage-'));
    const port = await freePortPair();
    kafka = createKafka({ paths: stackPaths(home), port, controllerPort: port + 1 });
    await kafka.start(quiet);
    await kafka.waitReady(quiet, 120_000);
    env = await ingestEnv('outage', { TRACER_KAFKA_BROKERS: `127.0.0.1:${port}` });
    gateway = await runGateway(env, { publishTimeoutMs: 3000 });
    consumer = await runConsumer(env);
  });
  after(async () => {
    await consumer?.close();
    await gateway?.close();
    await env?.close().catch(() => {});
    await kafka?.stop(quiet);
    rmSync(home, { recursive: true, force: true });
  });

  test('agents spool while Kafka is down and replay in order; nothing is lost or doubled', {
    timeout: 400_000,
  }, async () => {
    const direct = uniqueTenant('outage-direct');
    const viaGateway = uniqueTenant('outage-gateway');
    const { key } = await createApiKey(env.db.pool, { tenant: viaGateway, team: 'ops', scopes: ['ingest'] });
    writeFileSync(join(home, 'agent.key'), key);
    const common = {
      ...process.env,
      TRACER_AGENT_FLUSH_MS: '200',
      TRACER_AGENT_SAMPLE_INTERVAL_MS: '500',
      TRACER_LOG_LEVEL: 'warn',
    };
    const agents: { name: string; tenant: string; spool: string; child: ChildProcess }[] = [
      {
        name: 'kafka sink',
        tenant: direct,
        spool: join(home, 'spool-direct'),
        child: spawn(
          tracer,
          [
            'agent',
            'start',
            '--sink',
            'kafka',
            '--tenant',
            direct,
            '--brokers',
            env.env.TRACER_KAFKA_BROKERS!,
            '--topic',
            env.rawTopic,
            '--spool-dir',
            join(home, 'spool-direct'),
          ],
          { env: common, stdio: ['ignore', 'ignore', 'inherit'] },
        ),
      },
      {
        name: 'gateway sink',
        tenant: viaGateway,
        spool: join(home, 'spool-gateway'),
        child: spawn(
          tracer,
          [
            'agent',
            'start',
            '--gateway',
            gateway.url,
            '--api-key-file',
            join(home, 'agent.key'),
            '--spool-dir',
            join(home, 'spool-gateway'),
          ],
          { env: common, stdio: ['ignore', 'ignore', 'inherit'] },
        ),
      },
    ];
    const status = (spool: string) => JSON.parse(readFileSync(join(spool, 'status.json'), 'utf8'));
    const dbAgent = async (tenant: string) =>
      (await env.db.pool.query('SELECT * FROM ingest_agents WHERE tenant_id = $1', [tenant])).rows[0] as
        | Record<string, string>
        | undefined;

    // Commands with a marker, run all along: before, during and after the outage.
    const markers: string[] = [];
    let running = true;
    const commands = (async () => {
      while (running) {
        const marker = `outage-${randomUUID()}`;
        spawnSync('/bin/sh', ['-c', `echo ${marker} >/dev/null; exit 0`]);
        markers.push(marker);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();

    try {
      for (const a of agents)
        await eventually(`${a.name} writing`, async () => (await dbAgent(a.tenant)) !== undefined, 60_000);

      await kafka.stop(quiet);
      const downAt = Date.now();
      const markersBefore = markers.length;
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      for (const a of agents) {
        const s = status(a.spool);
        assert.equal(s.sinkState, 'retrying', `${a.name} noticed the outage`);
        assert.ok(s.pendingEvents > 0, `${a.name} spooled ${s.pendingEvents} events`);
      }
      const during = markers.slice(markersBefore);
      assert.ok(during.length >= 50, `${during.length} commands ran during the outage`);
      process.stderr.write(
        `# Kafka down ${((Date.now() - downAt) / 1000).toFixed(0)} s; spooled: ${agents.map((a) => `${a.name} ${status(a.spool).pendingEvents}`).join(', ')}\n`,
      );

      await kafka.start(quiet);
      await kafka.waitReady(quiet, 120_000);
      for (const a of agents) {
        await eventually(
          `${a.name} replayed its spool`,
          () => status(a.spool).pendingEvents === 0 || undefined,
          180_000,
        );
      }
      // Every command of the outage is in the database, under each agent's tenant.
      for (const a of agents) {
        await eventually(
          `${a.name}: commands of the outage in the database`,
          async () => {
            const { rows } = await env.db.pool.query(
              "SELECT count(DISTINCT m) AS n FROM processes p, unnest($2::text[]) m WHERE p.tenant_id = $1 AND array_to_string(p.argv, ' ') LIKE '%' || m || '%'",
              [a.tenant, during],
            );
            return Number(rows[0].n) === during.length || undefined;
          },
          120_000,
        );
      }
    } finally {
      running = false;
      await commands;
      for (const a of agents) a.child.kill('SIGTERM');
      for (const a of agents) if (a.child.exitCode === null) await once(a.child, 'exit');
    }

    for (const a of agents) {
      const final = status(a.spool);
      assert.equal(final.evictedEvents, 0);
      await eventually(
        `${a.name}: all its events`,
        async () => {
          const row = await dbAgent(a.tenant);
          return row && Number(row.events_written) === final.sentEvents ? row : undefined;
        },
        60_000,
      );
      const row = (await dbAgent(a.tenant))!;
      // Complete and in order: seq 0..n-1 each written once (an event overtaken by a later
      // one would have been skipped as a replay and left a hole in this count).
      assert.equal(Number(row.max_seq), final.sentEvents - 1, a.name);
      assert.equal(Number(row.seq_gap_events), 0, a.name);
      process.stderr.write(
        `# ${a.name}: ${final.sentEvents} events, all written in order; ${row.duplicates_skipped} resent events skipped\n`,
      );
    }
  });
});
