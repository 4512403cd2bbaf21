// The attribution service against real Kafka and PostgreSQL: recorded real traces published
// as normalized events end as exactly the records `tracer trace tree` makes of the same trace,
// tasks.v1 carries every change (live `running` first), a service killed mid-stream resumes
// from its snapshot without counting anything twice, redeliveries are no-ops, and malformed
// input is dead-lettered with its reason while the rest is written.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ConsumedMessage, eventBatchMessages, type Producer, readDeadLetter } from '@tracer/bus';
import { encodeBatch, type TelemetryEvent } from '@tracer/events';
import { fixtureEvents } from '../src/core/test-events.ts';
import { createBatchHandler } from '../src/service/attribution-consumer.ts';
import type { RunningAttribution } from '../src/service/server.ts';
import { defaultToolRules } from '../src/tool-rules-file.ts';
import { attributeTrace } from '../src/trace-file.ts';
import {
  type AttributionEnv,
  asHost,
  attributionEnv,
  changesOf,
  drained,
  eventually,
  quietLogger,
  readTopic,
  recordsOf,
  rowsOf,
  runService,
  uniqueTenant,
} from './helpers.ts';

const MAIN = fileURLToPath(new URL('../src/service/main.ts', import.meta.url));
/** Events per Kafka record: an agent batch; each is one step of live status. */
const PER_MESSAGE = 20;

async function expected(events: TelemetryEvent[]) {
  const { state, tree } = await attributeTrace(events, { readFiles: false });
  return { records: recordsOf(state), tree };
}

const sorted = (m: Map<string, unknown>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));

describe('attribution service', () => {
  let env: AttributionEnv;
  let service: RunningAttribution;
  let producer: Producer;

  before(async () => {
    env = await attributionEnv('attr-svc');
    service = await runService(env);
    producer = await env.bus.producer();
  });
  after(async () => {
    await producer?.close();
    await service?.close();
    await env?.close();
  });

  for (const fixture of ['snakemake-7-ok.strace.jsonl', 'snakemake-7-fail.strace.jsonl', 'cwltool-ok.strace.jsonl']) {
    test(`${fixture}: rows equal the trace's own attribution; tasks.v1 carries live states first`, async () => {
      const tenant = uniqueTenant('rec');
      const host = `host-${tenant}`;
      const events = asHost(fixtureEvents(fixture), tenant, host);
      const want = await expected(events);
      await producer.send(env.config.inputTopic, eventBatchMessages(events, PER_MESSAGE));
      const rows = await eventually('every record in the database', async () => {
        const r = await rowsOf(env.db, tenant, host);
        return r.size === want.records.size && (await drained(env.bus, env.config.groupId, env.config.inputTopic))
          ? r
          : undefined;
      });
      assert.deepEqual(sorted(rows), sorted(want.records));
      // The typed columns say the same as the records.
      const { rows: runs } = await env.db.pool.query(
        'SELECT engine, status, exit_code, pipeline FROM runs WHERE tenant_id = $1',
        [tenant],
      );
      assert.deepEqual(
        runs,
        want.tree.runs.map((r) => ({
          engine: r.engine,
          status: r.status,
          exit_code: r.exitCode,
          pipeline: r.pipeline,
        })),
      );

      const published = changesOf(
        await readTopic(env.bus, env.config.outputTopic, (ms) =>
          changesOf(ms).some((c) => c.entity === 'run' && c.record.tenant === tenant && c.record.status !== 'running'),
        ),
      ).filter((c) => c.record.tenant === tenant);
      const last = new Map(published.map((c) => [`${c.entity}:${c.record.id}`, c.record]));
      for (const [key, record] of want.records) assert.deepEqual(last.get(key), record, key);
      // Live status: the run and some tasks are published `running` before their final state,
      // and nothing goes back to running once it ended.
      const statesOf = (entity: string, id: string) =>
        published.filter((c) => c.entity === entity && c.record.id === id).map((c) => c.record.status);
      for (const run of want.tree.runs) {
        const states = statesOf('run', run.id);
        assert.deepEqual([states[0], states.at(-1)], ['running', run.status], states.join(' '));
      }
      const tasks = want.tree.runs.flatMap((r) => r.steps.flatMap((s) => s.tasks));
      let seenRunning = 0;
      for (const task of tasks) {
        const states = statesOf('task', task.id);
        assert.equal(states.at(-1), task.status);
        const firstEnd = states.findIndex((s) => s !== 'running');
        assert.ok(!states.slice(firstEnd).includes('running'), `${task.name}: ${states.join(' ')}`);
        if (states[0] === 'running' && task.status !== 'running') seenRunning++;
      }
      assert.ok(seenRunning > 0, 'some task was published running before it ended');
    });
  }

  test('malformed input goes to the dead-letter topic with its reason; the rest is written', async () => {
    const tenant = uniqueTenant('bad');
    const host = `host-${tenant}`;
    const events = asHost(fixtureEvents('snakemake-7-ok.strace.jsonl'), tenant, host);
    const broken = { ...events[3]!, pid: 'not a pid' };
    const key = `${tenant}/${host}`;
    await producer.send(env.config.inputTopic, [
      { key, value: encodeBatch([...events.slice(0, 3), broken, ...events.slice(4)]) },
      { key, value: Buffer.from('not a batch at all') },
    ]);
    const want = await expected(events.filter((_, i) => i !== 3));
    const rows = await eventually('the valid events written', async () => {
      const r = await rowsOf(env.db, tenant, host);
      return r.size === want.records.size ? r : undefined;
    });
    assert.deepEqual(sorted(rows), sorted(want.records));
    const dead = await readTopic(
      env.bus,
      `${env.config.inputTopic}.dlq`,
      (ms) => ms.filter((m) => m.key?.toString() === key).length >= 2,
    );
    const reasons = dead.filter((m) => m.key?.toString() === key).map((m) => readDeadLetter(m)!.reason);
    assert.ok(
      reasons.some((r) => /^event 3: .*pid/.test(r)),
      reasons.join('; '),
    );
    assert.ok(
      reasons.some((r) => /batch format/.test(r)),
      reasons.join('; '),
    );
    const deadEvent = dead.find((m) => readDeadLetter(m)!.reason.startsWith('event 3'))!;
    assert.equal(JSON.parse(deadEvent.value!.toString()).pid, 'not a pid', 'the bad event itself is kept');
  });
});

describe('two instances taking turns on a host (a rebalance back and forth)', () => {
  let env: AttributionEnv;
  let producer: Producer;
  before(async () => {
    env = await attributionEnv('attr-turns');
    producer = await env.bus.producer();
  });
  after(async () => {
    await producer?.close();
    await env?.close();
  });

  test('an instance whose cached state is older than the stored one reloads it', async () => {
    const tenant = uniqueTenant('turns');
    const host = `host-${tenant}`;
    const events = asHost(fixtureEvents('snakemake-7-ok.strace.jsonl'), tenant, host);
    const want = await expected(events);
    const messages: ConsumedMessage[] = eventBatchMessages(events, PER_MESSAGE).map((m, i) => ({
      topic: env.config.inputTopic,
      partition: 0,
      offset: String(i),
      key: Buffer.from(String(m.key)),
      value: m.value as Buffer,
      headers: {},
      timestamp: String(Date.now()),
    }));
    const instance = () =>
      createBatchHandler({
        pool: env.db.pool,
        log: quietLogger('turns'),
        rules: defaultToolRules(),
        producer,
        outputTopic: env.config.outputTopic,
        localHost: null,
      });
    const ctx = {
      topic: env.config.inputTopic,
      partition: 0,
      heartbeat: async () => {},
      signal: new AbortController().signal,
    };
    const [a, b] = [instance(), instance()];
    const third = Math.ceil(messages.length / 3);
    await a(messages.slice(0, third), ctx);
    await b(messages.slice(third, 2 * third), ctx);
    await a(messages.slice(2 * third), ctx);
    assert.deepEqual(sorted(await rowsOf(env.db, tenant, host)), sorted(want.records));
    const version = async () =>
      Number(
        (await env.db.pool.query('SELECT version FROM consumer_state WHERE tenant_id = $1', [tenant])).rows[0].version,
      );
    assert.equal(await version(), 3);
    await b(messages, ctx);
    assert.equal(await version(), 3, 'all of it again through the other instance: a no-op');
    assert.deepEqual(sorted(await rowsOf(env.db, tenant, host)), sorted(want.records));
  });
});

describe('attribution service killed mid-stream', () => {
  let env: AttributionEnv;
  let producer: Producer;
  before(async () => {
    env = await attributionEnv('attr-kill');
    producer = await env.bus.producer();
  });
  after(async () => {
    await producer?.close();
    await env?.close();
  });

  const start = (): ChildProcess =>
    spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN], {
      env: { ...env.env, TRACER_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  const stateVersion = async (tenant: string) =>
    Number(
      (await env.db.pool.query('SELECT max(version) AS v FROM consumer_state WHERE tenant_id = $1', [tenant])).rows[0]
        .v ?? 0,
    );

  test('SIGKILL, restart, redelivery: the final rows equal an uninterrupted run, nothing counted twice', {
    timeout: 180_000,
  }, async (t) => {
    const tenant = uniqueTenant('kill');
    const host = `host-${tenant}`;
    const events = asHost(fixtureEvents('snakemake-7-ok.strace.jsonl'), tenant, host);
    const want = await expected(events);
    const messages = eventBatchMessages(events, PER_MESSAGE);
    const half = Math.floor(messages.length / 2);

    let child = start();
    await producer.send(env.config.inputTopic, messages.slice(0, half));
    await eventually('the first half applied', async () => (await stateVersion(tenant)) > 0);
    // The rest arrives while the service dies: some of it may be applied, committed or neither.
    await producer.send(env.config.inputTopic, messages.slice(half));
    child.kill('SIGKILL');
    await once(child, 'exit');
    const killedAt = await stateVersion(tenant);
    const rowsAtKill = (await rowsOf(env.db, tenant, host)).size;
    t.diagnostic(`killed at snapshot version ${killedAt} with ${rowsAtKill} of ${want.records.size} records written`);

    child = start();
    try {
      const rows = await eventually('every record after the restart', async () => {
        const r = await rowsOf(env.db, tenant, host);
        return r.size === want.records.size && (await drained(env.bus, env.config.groupId, env.config.inputTopic))
          ? r
          : undefined;
      });
      assert.deepEqual(sorted(rows), sorted(want.records));
      const version = await stateVersion(tenant);
      assert.ok(version >= killedAt);

      // The whole stream once more (an agent resending, ingest publishing twice): no-ops.
      const before = await env.db.pool.query('SELECT id, updated_at FROM tasks WHERE tenant_id = $1 ORDER BY id', [
        tenant,
      ]);
      await producer.send(env.config.inputTopic, messages);
      await eventually('the redelivery consumed', () => drained(env.bus, env.config.groupId, env.config.inputTopic));
      assert.equal(await stateVersion(tenant), version, 'no snapshot saved for replayed events');
      const afterRows = await env.db.pool.query('SELECT id, updated_at FROM tasks WHERE tenant_id = $1 ORDER BY id', [
        tenant,
      ]);
      assert.deepEqual(afterRows.rows, before.rows, 'no row touched');
      assert.deepEqual(sorted(await rowsOf(env.db, tenant, host)), sorted(want.records));
    } finally {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0, 'SIGTERM drains and exits cleanly');
    }
  });
});
