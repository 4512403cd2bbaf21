// End to end on this host: `tracer agent start` with an ingest key traces a command (eBPF when
// it loads, the /proc fallback otherwise), ships through the gateway, Kafka and the raw
// consumer, and the command's processes appear under the key's tenant, never the one the
// agent's own config names.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../src/adapters/postgres-keys.ts';
import type { RunningConsumer } from '../src/consumer/server.ts';
import type { RunningGateway } from '../src/gateway/server.ts';
import { eventually, type IngestEnv, ingestEnv, runConsumer, runGateway, uniqueTenant } from './helpers.ts';

const tracer = fileURLToPath(new URL('../../../tracer', import.meta.url));

describe('agent to database through the gateway', () => {
  let env: IngestEnv;
  let gateway: RunningGateway;
  let consumer: RunningConsumer;
  let dir: string;

  before(async () => {
    env = await ingestEnv('agent');
    gateway = await runGateway(env);
    consumer = await runConsumer(env);
    dir = mkdtempSync(join(tmpdir(), 'tracer-agent-e2e-'));
  });
  after(async () => {
    await consumer?.close();
    await gateway?.close();
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a traced command appears under the key tenant', { timeout: 120_000 }, async () => {
    const tenant = uniqueTenant('e2e');
    const { key } = await createApiKey(env.db.pool, { tenant, team: 'pipelines', scopes: ['ingest'] });
    writeFileSync(join(dir, 'agent.key'), `${key}\n`, { mode: 0o600 });
    const spoolDir = join(dir, 'spool');
    const agent = spawn(
      tracer,
      ['agent', 'start', '--gateway', gateway.url, '--api-key-file', join(dir, 'agent.key'), '--spool-dir', spoolDir],
      {
        env: {
          ...process.env,
          TRACER_AGENT_TENANT: 'someone-else',
          TRACER_AGENT_FLUSH_MS: '100',
          TRACER_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    agent.stderr!.on('data', (d) => {
      stderr += d;
    });
    try {
      const status = () => JSON.parse(readFileSync(join(spoolDir, 'status.json'), 'utf8'));
      await eventually('the agent to start', () => {
        try {
          return status().state === 'running' || undefined;
        } catch {
          return undefined;
        }
      });
      const marker = `e2e-${randomUUID()}`;
      const run = spawnSync('/bin/sh', ['-c', `echo ${marker} >/dev/null; sleep 0.2; exit 3`]);
      assert.equal(run.status, 3);
      const row = await eventually(
        'the traced command and its exit in the database',
        async () =>
          (
            await env.db.pool.query(
              "SELECT * FROM processes WHERE array_to_string(argv, ' ') LIKE $1 AND exit_seq IS NOT NULL",
              [`%${marker}%`],
            )
          ).rows[0],
        60_000,
      );
      assert.equal(row.tenant_id, tenant);
      assert.equal(row.exit_code, 3);
      assert.equal(row.exe, '/usr/bin/dash');
      assert.ok(row.end_ts > row.start_ts);
      const mode = status().mode;
      assert.equal(row.sampled, mode === 'proc');
      assert.equal((await env.db.pool.query("SELECT 1 FROM processes WHERE tenant_id = 'someone-else'")).rowCount, 0);
      const agentRow = (await env.db.pool.query('SELECT * FROM ingest_agents WHERE tenant_id = $1', [tenant])).rows[0];
      assert.equal(agentRow.agent_id, status().agentId);
      assert.equal(Number(agentRow.seq_gap_events), 0);
      process.stderr.write(`# agent mode ${mode}; ${agentRow.events_written} events written so far\n`);
    } finally {
      agent.kill('SIGTERM');
      const [code] = await once(agent, 'exit');
      assert.equal(code, 0, stderr);
    }
    const final = JSON.parse(readFileSync(join(spoolDir, 'status.json'), 'utf8'));
    assert.equal(final.state, 'stopped');
    assert.equal(final.evictedEvents, 0);
    assert.equal(final.rejectedEvents, 0);
    // Everything the agent spooled reached the database before it stopped.
    await eventually('the last batch', async () => {
      const { rows } = await env.db.pool.query(
        'SELECT max_seq, events_written FROM ingest_agents WHERE tenant_id = $1',
        [tenant],
      );
      return Number(rows[0].events_written) === final.sentEvents && Number(rows[0].max_seq) === final.sentEvents - 1
        ? true
        : undefined;
    });
  });

  test('the spool outlives the agent: killed while the gateway is away, restarted, nothing is lost', {
    timeout: 180_000,
  }, async () => {
    const tenant = uniqueTenant('restart');
    const { key } = await createApiKey(env.db.pool, { tenant, team: 'pipelines', scopes: ['ingest'] });
    writeFileSync(join(dir, 'restart.key'), key);
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const spoolDir = join(dir, 'restart-spool');
    const start = () =>
      spawn(
        tracer,
        [
          'agent',
          'start',
          '--gateway',
          `http://127.0.0.1:${port}`,
          '--api-key-file',
          join(dir, 'restart.key'),
          '--spool-dir',
          spoolDir,
        ],
        {
          env: { ...process.env, TRACER_AGENT_FLUSH_MS: '100', TRACER_LOG_LEVEL: 'error' },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
    const status = () => {
      try {
        return JSON.parse(readFileSync(join(spoolDir, 'status.json'), 'utf8'));
      } catch {
        return undefined;
      }
    };
    let agent = start();
    await eventually(
      'events spooled while no gateway answers',
      () => (status()?.pendingEvents ?? 0) > 500 || undefined,
      60_000,
    );
    agent.kill('SIGKILL');
    await once(agent, 'exit');
    const before = status();
    const second = await runGateway(env, { port });
    try {
      agent = start();
      await eventually(
        'the restarted agent to deliver its spool',
        () => {
          const s = status();
          return s && s.pid !== before.pid && s.sentEvents >= before.pendingEvents && s.pendingEvents < 500
            ? s
            : undefined;
        },
        60_000,
      );
      agent.kill('SIGTERM');
      await once(agent, 'exit');
    } finally {
      await second.close();
    }
    const final = status();
    assert.equal(final.agentId, before.agentId, 'same agent id after the restart');
    const row = await eventually(
      'all its events in the database',
      async () => {
        const r = (await env.db.pool.query('SELECT * FROM ingest_agents WHERE tenant_id = $1', [tenant])).rows[0];
        return r && Number(r.events_written) === final.sentEvents ? r : undefined;
      },
      60_000,
    );
    // One sequence across both lives of the agent, complete: nothing spooled was lost.
    assert.equal(Number(row.max_seq), final.sentEvents - 1);
    assert.equal(Number(row.seq_gap_events), 0);
    assert.equal(final.evictedEvents, 0);
  });
});
