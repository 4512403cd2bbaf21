// A bounded spool on a host whose gateway is not there yet: the agent keeps tracing, evicts
// its oldest batches when the spool is full and counts every event it lost; once the gateway
// answers, the database holds the rest, and its count of missing sequence numbers equals the
// agent's count of evicted events: nothing vanishes unaccounted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

describe('spool eviction', () => {
  let env: IngestEnv;
  let consumer: RunningConsumer;
  let gateway: RunningGateway | undefined;
  let dir: string;

  before(async () => {
    env = await ingestEnv('eviction');
    consumer = await runConsumer(env);
    dir = mkdtempSync(join(tmpdir(), 'tracer-eviction-'));
  });
  after(async () => {
    await gateway?.close();
    await consumer?.close();
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('evicted events are counted by the agent and show as the same gap in the database', {
    timeout: 240_000,
  }, async () => {
    const tenant = uniqueTenant('evict');
    const { key } = await createApiKey(env.db.pool, { tenant, team: 'ops', scopes: ['ingest'] });
    writeFileSync(join(dir, 'agent.key'), key);
    const port = await freePort();
    const spoolDir = join(dir, 'spool');
    const agent = spawn(
      tracer,
      [
        ...['agent', 'start', '--gateway', `http://127.0.0.1:${port}`, '--api-key-file', join(dir, 'agent.key')],
        ...['--spool-dir', spoolDir, '--spool-max-bytes', String(256 * 1024), '--sample-interval', '50'],
        ...['--stats-interval', '1000', '--flush-interval', '100'],
      ],
      { env: { ...process.env, TRACER_LOG_LEVEL: 'error' }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const status = () => JSON.parse(readFileSync(join(spoolDir, 'status.json'), 'utf8'));
    // Short processes, so the host has something to report even when it is otherwise quiet.
    const busy = spawn('/bin/sh', ['-c', 'while :; do /bin/true; done'], { stdio: 'ignore' });
    try {
      // Nothing listens on the port yet: the spool fills, then evicts its oldest segments.
      const full = await eventually(
        'the spool to evict',
        () => {
          try {
            const s = status();
            return s.evictedEvents > 0 ? s : undefined;
          } catch {
            return undefined;
          }
        },
        180_000,
      );
      assert.ok(full.spoolBytes <= 256 * 1024, `${full.spoolBytes} bytes spooled`);
      assert.equal(full.sinkState, 'retrying');
      gateway = await runGateway(env, { port });
      await eventually('the spool to drain', () => status().pendingEvents < 2000 || undefined, 120_000);
    } finally {
      busy.kill('SIGKILL');
      agent.kill('SIGTERM');
      await once(agent, 'exit');
    }
    const final = status();
    const row = await eventually(
      'every event the agent still had',
      async () => {
        const r = (await env.db.pool.query('SELECT * FROM ingest_agents WHERE tenant_id = $1', [tenant])).rows[0];
        return r && Number(r.events_written) === final.sentEvents ? r : undefined;
      },
      60_000,
    );
    // The events the agent evicted are exactly the sequence numbers the database never saw.
    assert.equal(Number(row.seq_gap_events), final.evictedEvents);
    assert.equal(Number(row.max_seq) + 1, final.sentEvents + final.evictedEvents);
    // And the agent said so itself, in its last agent.stats.
    assert.ok(Number(row.dropped_user) >= final.evictedEvents, `agent.stats droppedUser ${row.dropped_user}`);
    process.stderr.write(
      `# evicted ${final.evictedEvents} events, sent ${final.sentEvents}; database gap ${row.seq_gap_events}\n`,
    );
  });
});
