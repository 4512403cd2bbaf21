// The raw consumer against real Kafka and PostgreSQL: every table written, replays and
// redeliveries written once, invalid events dead-lettered with their reason, normalized events
// published, and a consumer killed mid-stream (SIGKILL, several times) ending with exactly the
// rows the events make.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ConsumedMessage, readDeadLetter, sendEventBatches } from '@tracer/bus';
import { decodeBatch, encodeBatch, goldenEvents, type TelemetryEvent } from '@tracer/events';
import type { RunningConsumer } from '../src/consumer/server.ts';
import { TEAM_HEADER } from '../src/core/record-headers.ts';
import {
  eventually,
  type IngestEnv,
  ingestEnv,
  runConsumer,
  syntheticEvents,
  uniqueName,
  uniqueTenant,
} from './helpers.ts';

const consumerMain = fileURLToPath(new URL('../src/consumer/main.ts', import.meta.url));

describe('raw consumer', () => {
  let env: IngestEnv;
  let consumer: RunningConsumer;

  before(async () => {
    env = await ingestEnv('consumer');
    consumer = await runConsumer(env);
  });
  after(async () => {
    await consumer?.close();
    await env?.close();
  });

  /** The dead letters of records keyed `key`, once `n` of them arrived. */
  const deadLetters = async (key: string, n: number) => {
    const letters: { reason: string; value: string }[] = [];
    const reader = await env.bus.consume({
      groupId: uniqueName('dlq-reader'),
      topics: [`${env.rawTopic}.dlq`],
      handler: async (messages) => {
        for (const m of messages) {
          const info = readDeadLetter(m);
          if (info && m.key?.toString() === key) letters.push({ reason: info.reason, value: m.value!.toString() });
        }
      },
    });
    try {
      await eventually('dead letters', () => letters.length === n || undefined);
    } finally {
      await reader.stop();
    }
    return letters;
  };

  const count = async (sql: string, params: unknown[] = []) => Number((await env.db.pool.query(sql, params)).rows[0].n);
  const written = (tenant: string) =>
    count('SELECT coalesce(sum(events_written), 0) AS n FROM ingest_agents WHERE tenant_id = $1', [tenant]);

  test('every stored kind lands in its table; the rest goes on to the normalized topic', async () => {
    const tenant = uniqueTenant('kinds');
    const events = goldenEvents.map((e, i) => ({
      ...e,
      tenant,
      host: 'kinds-host',
      agentId: 'a1',
      seq: i,
      ts: Date.now() * 1e6 + i,
    }));
    const producer = await env.bus.producer();
    await producer.send(env.rawTopic, [
      {
        key: `${tenant}/kinds-host`,
        value: encodeBatch(events),
        headers: { [TEAM_HEADER]: '3f0c1c1e-7f4e-4a57-9a43-5b0b6a1c2d3e' },
      },
    ]);
    await eventually('all events written', async () => (await written(tenant)) === events.length || undefined);
    const tables = [
      'processes',
      'process_samples',
      'host_info',
      'host_samples',
      'process_logs',
      'file_opens',
      'oom_kills',
      'host_boots',
    ];
    for (const table of tables)
      assert.equal(await count(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = $1`, [tenant]), 1, table);
    const proc = (await env.db.pool.query('SELECT * FROM processes WHERE tenant_id = $1', [tenant])).rows[0];
    assert.deepEqual(
      [proc.exe, proc.exit_code, proc.signal, Number(proc.exec_seq), Number(proc.exit_seq)],
      ['/usr/bin/bwa', 0, 9, 3, 9],
    );
    const agent = (await env.db.pool.query('SELECT * FROM ingest_agents WHERE tenant_id = $1', [tenant])).rows[0];
    assert.deepEqual(
      [agent.team_id, Number(agent.max_seq), agent.mode, Number(agent.dropped_kernel)],
      ['3f0c1c1e-7f4e-4a57-9a43-5b0b6a1c2d3e', events.length - 1, 'bpf', 0],
    );

    // The normalized topic carries each fresh event once, with the team.
    const seen: TelemetryEvent[] = [];
    const group = uniqueName('normalized-reader');
    const reader = await env.bus.consume({
      groupId: group,
      topics: [env.normalizedTopic],
      handler: async (messages: ConsumedMessage[]) => {
        for (const m of messages) {
          for (const r of decodeBatch(m.value!)) {
            const e = (r as { value: TelemetryEvent }).value;
            if (e.tenant === tenant) {
              seen.push(e);
              assert.equal(m.headers[TEAM_HEADER]?.toString(), '3f0c1c1e-7f4e-4a57-9a43-5b0b6a1c2d3e');
            }
          }
        }
      },
    });
    await eventually('normalized events', () => seen.length === events.length || undefined);
    await reader.stop();
    assert.deepEqual(
      seen.map((e) => e.seq),
      events.map((e) => e.seq),
    );
  });

  test('text with NUL, tabs, quotes, backslashes and broken UTF-16 is stored as sent (NUL as U+FFFD)', async () => {
    const tenant = uniqueTenant('text');
    const nasty = 'a\tb\nc\\d "e" {f,g} \\N h\u0000i \ud800j \\u0000k';
    const events = syntheticEvents({ tenant, host: 'text-host', agentId: 'a1', processes: 1 }) as unknown as Record<
      string,
      unknown
    >[];
    events[0]!.argv = ['sh', '-c', nasty, ''];
    events[0]!.env = { NXF_TASK_WORKDIR: nasty };
    events[2]!.text = nasty;
    events[3]!.path = nasty;
    const producer = await env.bus.producer();
    await producer.send(env.rawTopic, [{ key: `${tenant}/text-host`, value: encodeBatch(events) }]);
    await eventually('text rows', async () => (await written(tenant)) === events.length || undefined);
    const stored = nasty.replace('\u0000', '\uFFFD').replace('\ud800', '\uFFFD');
    const proc = (await env.db.pool.query('SELECT argv, env FROM processes WHERE tenant_id = $1', [tenant])).rows[0];
    assert.deepEqual(proc.argv, ['sh', '-c', stored, '']);
    assert.deepEqual(proc.env, { NXF_TASK_WORKDIR: stored });
    const log = (await env.db.pool.query('SELECT text FROM process_logs WHERE tenant_id = $1', [tenant])).rows[0];
    assert.equal(log.text, stored);
    const open = (await env.db.pool.query('SELECT path FROM file_opens WHERE tenant_id = $1', [tenant])).rows[0];
    assert.equal(open.path, stored);
  });

  test('the COPY role stamps rows with the transaction tenant and can do nothing else', async () => {
    const tenant = uniqueTenant('writer');
    const client = await env.db.pool.connect();
    const attempt = async (sql: string, setTenant = true) => {
      await client.query('BEGIN; SET LOCAL ROLE tracer_ingest_writer');
      try {
        if (setTenant) await client.query("SELECT set_config('tracer.tenant_id', $1, true)", [tenant]);
        await client.query(sql);
        return 'ok';
      } catch (err) {
        return (err as { code?: string }).code;
      } finally {
        await client.query('ROLLBACK');
      }
    };
    const columns = 'host, upid, ts, cpu_ns, rss_bytes, read_bytes, write_bytes, agent_id, seq';
    const values = "'h', 'u', now(), 1, 1, 1, 1, 'a', 1";
    try {
      assert.equal(await attempt(`INSERT INTO process_samples (${columns}) VALUES (${values})`), 'ok');
      // tenant_id is not its to write, nothing is its to read, change or delete.
      assert.equal(
        await attempt(`INSERT INTO process_samples (tenant_id, ${columns}) VALUES ('other', ${values})`),
        '42501',
      );
      assert.equal(await attempt('SELECT count(*) FROM process_samples'), '42501');
      assert.equal(await attempt('DELETE FROM process_samples'), '42501');
      assert.equal(
        await attempt(`INSERT INTO processes (host, upid, start_ts, pid, agent_id) VALUES ('h', 'u', now(), 1, 'a')`),
        '42501',
      );
      // No tenant set: the default is NULL and the row is refused.
      assert.equal(await attempt(`INSERT INTO process_samples (${columns}) VALUES (${values})`, false), '23502');
    } finally {
      client.release();
    }
  });

  test('a sample at an instant no timestamp can hold: its record is dead-lettered, the partition moves on', async () => {
    const tenant = uniqueTenant('far');
    const [bad, good] = [1, 2].map((n) =>
      syntheticEvents({ tenant, host: 'far-host', agentId: `a${n}`, processes: 1 }),
    ) as unknown as Record<string, unknown>[][];
    bad![1]!.ts = 1e30;
    const producer = await env.bus.producer();
    await producer.send(env.rawTopic, [
      { key: `${tenant}/far-host`, value: encodeBatch(bad!) },
      { key: `${tenant}/far-host`, value: encodeBatch(good!) },
    ]);
    const letters = await deadLetters(`${tenant}/far-host`, 1);
    assert.match(letters[0]!.reason, /database refused/);
    await eventually('the next record', async () => (await written(tenant)) === good!.length || undefined);
  });

  test('a record delivered again, to another group or after a crash, is written once', async () => {
    const tenant = uniqueTenant('replay');
    const events = syntheticEvents({ tenant, host: 'replay-host', agentId: 'a1', processes: 50, samples: 3 });
    const producer = await env.bus.producer();
    await sendEventBatches(producer, env.rawTopic, events, 100);
    await eventually('first delivery', async () => (await written(tenant)) === events.length || undefined);
    // The same records again (an agent that resent after a lost acknowledgement)...
    await sendEventBatches(producer, env.rawTopic, events, 70);
    // ...and the whole topic once more through a second consumer group on the same database,
    // which is what a crash between the database commit and the offset commit looks like.
    const second = await runConsumer(env, { groupId: uniqueName('second-group') });
    try {
      await eventually('replays skipped', async () => {
        const n = await count('SELECT duplicates_skipped AS n FROM ingest_agents WHERE tenant_id = $1', [tenant]);
        return n >= events.length * 2 || undefined;
      });
    } finally {
      await second.close();
    }
    assert.equal(await written(tenant), events.length);
    assert.equal(await count('SELECT count(*) AS n FROM processes WHERE tenant_id = $1', [tenant]), 50);
    assert.equal(await count('SELECT count(*) AS n FROM process_samples WHERE tenant_id = $1', [tenant]), 150);
    assert.equal(await count('SELECT count(*) AS n FROM process_logs WHERE tenant_id = $1', [tenant]), 50);
    assert.equal(await count('SELECT seq_gap_events AS n FROM ingest_agents WHERE tenant_id = $1', [tenant]), 0);
  });

  test('two agents of one host reporting the same sample: the second is dropped, nothing stalls', async () => {
    const tenant = uniqueTenant('twin');
    const one = syntheticEvents({
      tenant,
      host: 'twin-host',
      agentId: 'a1',
      processes: 3,
      baseTs: 1_763_784_000_000_000_000,
    });
    const two = one.map((e) => ({ ...e, agentId: 'a2' }));
    const producer = await env.bus.producer();
    await sendEventBatches(producer, env.rawTopic, one);
    await eventually('first agent', async () => (await written(tenant)) === one.length || undefined);
    await sendEventBatches(producer, env.rawTopic, two);
    await eventually('second agent', async () => (await written(tenant)) === one.length * 2 || undefined);
    assert.equal(await count('SELECT count(*) AS n FROM process_samples WHERE tenant_id = $1', [tenant]), 3);
    assert.equal(await count('SELECT count(*) AS n FROM process_logs WHERE tenant_id = $1', [tenant]), 6);
  });

  test('invalid events go to the dead-letter topic with their reason; valid neighbours are written', async () => {
    const tenant = uniqueTenant('dlq');
    const events = syntheticEvents({ tenant, host: 'dlq-host', agentId: 'a1', processes: 2 }) as unknown as Record<
      string,
      unknown
    >[];
    events[1]!.rssBytes = -1;
    const producer = await env.bus.producer();
    await producer.send(env.rawTopic, [
      { key: `${tenant}/dlq-host`, value: encodeBatch(events) },
      { key: `${tenant}/dlq-host`, value: Buffer.from('not a batch') },
    ]);
    const letters = await deadLetters(`${tenant}/dlq-host`, 2);
    assert.match(letters[0]!.reason, /^event 1: process\.sample: \/rssBytes/);
    assert.equal(JSON.parse(letters[0]!.value).seq, 1);
    assert.match(letters[1]!.reason, /unknown batch format/);
    await eventually('valid events', async () => (await written(tenant)) === events.length - 1 || undefined);
    assert.equal(await count('SELECT count(*) AS n FROM process_samples WHERE tenant_id = $1', [tenant]), 1);
  });

  test('a consumer killed mid-stream and restarted ends with every row exactly once', {
    timeout: 240_000,
  }, async () => {
    const tenant = uniqueTenant('crash');
    const group = uniqueName('crash-group');
    const agents = Array.from({ length: 4 }, (_, a) =>
      syntheticEvents({
        tenant,
        host: `crash-host-${a}`,
        agentId: `agent-${a}`,
        processes: 2500,
        samples: 4,
        startPid: 100_000,
      }),
    );
    const total = agents.reduce((n, a) => n + a.length, 0); // 4 x 2,500 x 8 = 80,000
    const producer = await env.bus.producer();
    const start = () =>
      spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', consumerMain], {
        env: {
          ...env.env,
          TRACER_INGEST_CONSUMER_GROUP: group,
          TRACER_INGEST_CONSUMER_FETCH_BYTES: '262144',
          // Each SIGKILL leaves a dead member the group waits for until its session expires.
          TRACER_INGEST_CONSUMER_SESSION_TIMEOUT_MS: '6000',
          TRACER_LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    let child: ChildProcess = start();
    const producing = (async () => {
      for (let i = 0; i < 2500 * 8; i += 2000) {
        for (const a of agents) await sendEventBatches(producer, env.rawTopic, a.slice(i, i + 2000), 250);
      }
    })();
    // Kill it three times while rows are arriving, each time at a different point.
    const atKill: number[] = [];
    const t0 = performance.now();
    const killedAfter: string[] = [];
    // Each phase has its own bound, together under the test's: a stuck phase fails by name.
    for (const fraction of [0.15, 0.4, 0.7]) {
      await eventually(
        `${fraction * 100}% written`,
        async () => (await written(tenant)) >= total * fraction || undefined,
        50_000,
      );
      // Listen before the kill: the exit can come while the count below is being queried,
      // and a listener added after it would wait forever (this test's rare hang).
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      atKill.push(await written(tenant));
      killedAfter.push(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
      process.stderr.write(`# consumer killed at ${atKill.at(-1)} of ${total} events, after ${killedAfter.at(-1)}\n`);
      await exited;
      child = start();
    }
    await producing;
    try {
      await eventually('every event written', async () => (await written(tenant)) === total || undefined, 50_000);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    assert.equal(await count('SELECT count(*) AS n FROM processes WHERE tenant_id = $1', [tenant]), 4 * 2500);
    assert.equal(await count('SELECT count(*) AS n FROM process_samples WHERE tenant_id = $1', [tenant]), 4 * 2500 * 4);
    assert.equal(await count('SELECT count(*) AS n FROM process_logs WHERE tenant_id = $1', [tenant]), 4 * 2500);
    assert.equal(await count('SELECT count(*) AS n FROM file_opens WHERE tenant_id = $1', [tenant]), 4 * 2500);
    assert.equal(
      await count(
        'SELECT count(*) AS n FROM processes WHERE tenant_id = $1 AND exit_seq IS NOT NULL AND exec_seq IS NOT NULL',
        [tenant],
      ),
      4 * 2500,
    );
    assert.ok(
      atKill.some((n) => n < total),
      `killed mid-stream: ${atKill.join(', ')} of ${total}`,
    );
    const agentsRows = (await env.db.pool.query('SELECT * FROM ingest_agents WHERE tenant_id = $1', [tenant])).rows;
    for (const a of agentsRows) {
      assert.equal(Number(a.max_seq), 2500 * 8 - 1);
      assert.equal(Number(a.events_written), 2500 * 8);
      assert.equal(Number(a.seq_gap_events), 0);
    }
    const skipped = agentsRows.reduce((n, a) => n + Number(a.duplicates_skipped), 0);
    process.stderr.write(
      `# killed at ${atKill.join(', ')} of ${total} events written (after ${killedAfter.join(', ')}); ` +
        `all written after ${((performance.now() - t0) / 1000).toFixed(1)} s; ${skipped} redelivered events skipped\n`,
    );
  });
});
