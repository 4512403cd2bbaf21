// The insights service on the real local stack (Kafka + PostgreSQL): topics, group, tenant
// and database of its own per test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deadLetterHeaders, deadLetterTopicOf } from '@tracer/bus';
import { encodeBatch, hostKey, type InsightMessage, type TelemetryEvent } from '@tracer/events';
import { runRecord, stepRecord, taskRecord, upsert } from './attribution-records.ts';
import { traceRun, tracerRunUnavailable } from './fault-harness.ts';
import { attributionChanges, essentials, expectedInsights, recordedEvents } from './recorded-trace.ts';
import {
  drained,
  eventually,
  insightRows,
  insightsEnv,
  publishChanges,
  publishEvents,
  readTopic,
  runService,
} from './service-helpers.ts';
import { traceBuilder } from './trace-builder.ts';

const S = 1e9;
const rescope = (events: readonly TelemetryEvent[], tenant: string, host: string) =>
  events.map((e) => ({ ...e, tenant, host }));
const lastVersions = (messages: { value: Buffer | null }[]) => {
  const out = new Map<string, InsightMessage>();
  for (const m of messages) {
    const i = JSON.parse(m.value!.toString()) as InsightMessage;
    out.set(i.id, i);
  }
  return [...out.values()];
};

test('a recorded fault trace: the table and insights.v1 hold what analyzeTrace gives, each on its task', async () => {
  const env = await insightsEnv('recorded');
  const service = await runService(env);
  try {
    const events = recordedEvents(env.tenant, env.host);
    const expected = essentials(expectedInsights(events));
    assert.equal(expected.length, 2);
    assert.ok(expected.every((i) => i.taskId));
    await publishChanges(env, attributionChanges(events).flat());
    await publishEvents(env, events);
    const rows = await eventually('both insights, on their tasks', async () => {
      const r = await insightRows(env);
      return JSON.stringify(essentials(r.map((x) => x.record))) === JSON.stringify(expected) && r;
    });
    for (const r of rows) {
      assert.equal(r.task_id, r.record.taskId);
      assert.equal(r.kind, r.record.kind);
    }
    const messages = await readTopic(env.bus, env.config.insightsTopic, (m) => {
      const last = lastVersions(m);
      return JSON.stringify(essentials(last)) === JSON.stringify(expected);
    });
    for (const m of messages) assert.equal(m.key?.toString(), hostKey(env.tenant, env.host));
    // Same key, same partition count: the host's telemetry and tasks.v1 share a partition number.
    const partitions = new Set<number>();
    for (const topic of [env.config.telemetryTopic, env.config.tasksTopic, env.config.insightsTopic])
      for (const m of await readTopic(env.bus, topic, (got) => got.length > 0)) partitions.add(m.partition);
    assert.equal(partitions.size, 1);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /tracer_insights_published_total\{kind="signal",source="batch"\} \d+/);
    assert.equal((await fetch(`${service.url}/readyz`)).status, 200);
    assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  } finally {
    await service.close();
    await env.close();
  }
});

test('no_progress fires from the clock tick while nothing new arrives', async () => {
  const env = await insightsEnv('tick', {
    detectors: { defaults: { noProgress: { afterNs: 3 * S } } },
    clockAheadMs: 20_000,
    tickMs: 200,
  });
  const service = await runService(env);
  try {
    const t = traceBuilder();
    t.at(0).exec(200, ['cat', '/tmp/nobody-writes.fifo']).sample(200, { cpuS: 0.01 });
    t.at(0.5).sample(200, { cpuS: 0.01 });
    t.at(1).sample(200, { cpuS: 0.01 });
    await publishEvents(env, rescope(t.events, env.tenant, env.host));
    const sentAt = Date.now();
    await eventually('the samples consumed', () => drained(env.bus, env.config.groupId, env.config.telemetryTopic));
    const [row] = await eventually('no_progress', async () => {
      const r = await insightRows(env);
      return r.length > 0 && r;
    });
    const waitedMs = Date.now() - sentAt;
    assert.equal(row!.kind, 'no_progress');
    assert.equal(row!.pid, 200);
    // The samples showed 1 s of stall; the other 2 s of the 3 s threshold came from the clock.
    assert.ok(waitedMs >= 1500, `raised after ${waitedMs} ms`);
    assert.ok((row!.record.evidence.stalledNs as number) >= 3 * S);
  } finally {
    await service.close();
    await env.close();
  }
});

test('malformed messages go to the dead-letter topics with their reason; the rest is processed', async () => {
  const env = await insightsEnv('dlq');
  const service = await runService(env);
  try {
    const t = traceBuilder();
    t.at(0).exec(300, ['grep', 'x', '/data/missing.txt']);
    t.at(0.1).log(300, 'grep: /data/missing.txt: No such file or directory\n').exit(300, { code: 2 });
    const good = rescope(t.events, env.tenant, env.host);
    const key = hostKey(env.tenant, env.host);
    const producer = await env.bus.producer();
    await producer.send(env.config.telemetryTopic, [
      { key, value: Buffer.from('not a batch at all') },
      { key, value: encodeBatch([{ ...good[0]!, type: 'no.such.event' }, ...good]) },
    ]);
    await producer.send(env.config.tasksTopic, [{ key, value: '{"entity": "task", "op": "upsert"' }]);
    await producer.close();
    const rows = await eventually('the failure of the valid events', async () => {
      const r = await insightRows(env);
      return r.length > 0 && r;
    });
    assert.deepEqual(
      rows.map((r) => [r.kind, r.pid]),
      [['nonzero_exit', 300]],
    );
    const reasons = async (topic: string, n: number) =>
      (await readTopic(env.bus, deadLetterTopicOf(topic), (m) => m.length >= n)).map((m) =>
        m.headers[deadLetterHeaders.reason]!.toString(),
      );
    const telemetry = await reasons(env.config.telemetryTopic, 2);
    assert.equal(telemetry.length, 2);
    assert.ok(
      telemetry.some((r) => /unknown batch format/.test(r)),
      telemetry.join(' | '),
    );
    assert.ok(
      telemetry.some((r) => /event 0: unknown event type "no.such.event"/.test(r)),
      telemetry.join(' | '),
    );
    const tasks = await reasons(env.config.tasksTopic, 1);
    assert.match(tasks[0]!, /not JSON/);
  } finally {
    await service.close();
    await env.close();
  }
});

test('captured output holding NUL bytes is stored (as U+FFFD), not refused by PostgreSQL', async () => {
  const env = await insightsEnv('nul');
  const service = await runService(env);
  try {
    const t = traceBuilder();
    t.at(0).exec(400, ['tool\u0000x', '--in', 'a\u0000b']);
    t.at(0.1).log(400, 'error: bad header \u0000\u0001 in a\u0000b\n').exit(400, { code: 3 });
    await publishEvents(env, rescope(t.events, env.tenant, env.host));
    const [row] = await eventually('the failure', async () => {
      const r = await insightRows(env);
      return r.length > 0 && r;
    });
    assert.equal(row!.kind, 'nonzero_exit');
    assert.doesNotMatch(JSON.stringify(row!.record), /\\u0000/);
  } finally {
    await service.close();
    await env.close();
  }
});

test('slow_step from the step history in the attribution tables', async () => {
  const env = await insightsEnv('slow');
  const { tenant, host } = env;
  const pipeline = 'pipe-slow';
  // Six earlier runs in which `align` took about half a second.
  for (let k = 0; k < 6; k++) {
    const start = new Date(Date.UTC(2026, 10, 1, k));
    const end = new Date(start.getTime() + 500 + k * 10);
    await env.db.pool.query(
      `INSERT INTO runs (tenant_id, id, host, pipeline, name, engine, status, start_ts, end_ts, exit_code, wall_ns, cpu_ns, peak_rss_bytes, record)
       VALUES ($1, $2, $3, $4, $2, 'script', 'succeeded', $5, $6, 0, 0, 0, 0, '{}')`,
      [tenant, `old-run-${k}`, host, pipeline, start, end],
    );
    await env.db.pool.query(
      `INSERT INTO steps (tenant_id, id, host, run_id, name, status, start_ts, end_ts, task_count, failed_task_count, wall_ns, cpu_ns, peak_rss_bytes, record)
       VALUES ($1, $2, $3, $4, 'align', 'succeeded', $5, $6, 1, 0, $7, 0, 0, '{}')`,
      [tenant, `old-run-${k}/align`, host, `old-run-${k}`, start, end, (500 + k * 10) * 1e6],
    );
  }
  const service = await runService(env);
  try {
    const t = traceBuilder();
    t.at(0).exec(100, ['sh', 'run.sh']);
    t.at(0.1).exec(101, ['sh', 'align.sh'], { ppid: 100 });
    for (let s = 1; s <= 3; s++) t.at(s).sample(101, { cpuS: s * 0.9 });
    t.at(3.1).exit(101).at(3.2).exit(100);
    const events = rescope(t.events, tenant, host);
    const startTs = events[0]!.ts;
    const scope = { tenant, host, startTs };
    const changes = [
      upsert('run', runRecord({ ...scope, id: 'run-now', pipeline, rootUpid: t.upid(100), rootPid: 100 })),
      upsert('step', stepRecord({ ...scope, id: 'run-now/align', runId: 'run-now', name: 'align' })),
      upsert(
        'task',
        taskRecord({
          ...scope,
          id: 'task-now',
          runId: 'run-now',
          stepId: 'run-now/align',
          step: 'align',
          name: 'align (1)',
          rootUpid: t.upid(101),
          rootPid: 101,
        }),
      ),
    ];
    // As in production, tasks.v1 comes behind the telemetry: the step ended before its task is known.
    await publishEvents(env, events);
    await eventually(
      'the telemetry consumed',
      async () => (await drained(env.bus, env.config.groupId, env.config.telemetryTopic)) || undefined,
    );
    await publishChanges(env, changes);
    const [row] = await eventually('slow_step', async () => {
      const r = (await insightRows(env)).filter((x) => x.kind === 'slow_step');
      return r.length > 0 && r;
    });
    assert.equal(row!.pid, 101);
    assert.equal(row!.task_id, 'task-now');
    assert.equal(row!.run_id, 'run-now');
    assert.equal(row!.record.evidence.historyRuns, 6);
    assert.ok((row!.record.evidence.ratio as number) > 5, JSON.stringify(row!.record.evidence));
    assert.deepEqual(
      (await insightRows(env)).map((r) => r.kind),
      ['slow_step'],
    );
  } finally {
    await service.close();
    await env.close();
  }
});

const live =
  tracerRunUnavailable() ?? (spawnSync('sh', ['-c', 'command -v snakemake']).status ? 'no snakemake' : undefined);

test('a fault recorded now under the eBPF agent goes through the service as analyzeTrace sees it', {
  skip: live ?? false,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'insights-live-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(
    join(dir, 'Snakefile'),
    [
      'rule fail:',
      '    output: "bad/x.txt"',
      '    shell: "cat data/missing.fastq | head -4 > {output}; test -s {output}"',
      'rule ok:',
      '    output: "good/z.txt"',
      '    shell: "seq 1 1000 | sort -n > {output}"',
      '',
    ].join('\n'),
  );
  const run = await traceRun(['sh', '-c', `cd ${dir} && snakemake good/z.txt bad/x.txt -k -c1 --quiet`]);
  const env = await insightsEnv('live');
  const service = await runService(env);
  try {
    const events = run.events
      .filter((e) => (e.type as string) !== 'insight')
      .map((e) => ({ ...e, tenant: env.tenant, host: env.host }));
    const expected = essentials(expectedInsights(events));
    assert.ok(
      expected.some((i) => i.category === 'missing_input' && i.taskId),
      JSON.stringify(expected),
    );
    await publishChanges(env, attributionChanges(events).flat());
    await publishEvents(env, events);
    await eventually('what analyzeTrace gives', async () => {
      const r = await insightRows(env);
      return JSON.stringify(essentials(r.map((x) => x.record))) === JSON.stringify(expected);
    });
  } finally {
    await service.close();
    await env.close();
  }
});
