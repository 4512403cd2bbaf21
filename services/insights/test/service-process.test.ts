// main.ts as `tracer up` runs it: a bad variable stops it at once, named; SIGTERM lets the
// in-flight work commit and the process end by itself.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import type { ServiceConfig } from '../src/service/config.ts';
import { drained, eventually, insightRows, insightsEnv, publishEvents } from './service-helpers.ts';
import { traceBuilder } from './trace-builder.ts';

const main = new URL('../src/service/main.ts', import.meta.url).pathname;

function envOf(c: ServiceConfig): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TRACER_DATABASE_URL: c.databaseUrl,
    TRACER_KAFKA_BROKERS: c.kafkaBrokers.join(','),
    TRACER_INSIGHTS_TELEMETRY_TOPIC: c.telemetryTopic,
    TRACER_INSIGHTS_TASKS_TOPIC: c.tasksTopic,
    TRACER_INSIGHTS_TOPIC: c.insightsTopic,
    TRACER_INSIGHTS_GROUP: c.groupId,
    TRACER_INSIGHTS_TOPIC_PARTITIONS: String(c.topicPartitions),
    TRACER_INSIGHTS_PORT: '0',
    TRACER_LOG_LEVEL: 'info',
  };
}

test('a bad variable stops the process before anything starts, naming it', () => {
  const r = spawnSync(process.execPath, [main], {
    env: { ...process.env, TRACER_INSIGHTS_PORT: 'eighty' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /TRACER_INSIGHTS_PORT="eighty"/);
});

test('SIGTERM: the consumed work is committed and the process ends by itself', async () => {
  const env = await insightsEnv('process');
  let child: ChildProcess | undefined;
  try {
    let stderr = '';
    child = spawn(process.execPath, [main], { env: envOf(env.config), stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    const url = await eventually('the service up', () => /"url":"(http:[^"]+)"/.exec(stderr)?.[1]);
    await eventually('ready', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200);
    const t = traceBuilder();
    t.at(0).exec(500, ['grep', 'x', '/data/missing.txt']);
    t.at(0.1).log(500, 'grep: /data/missing.txt: No such file or directory\n').exit(500, { code: 2 });
    await publishEvents(
      env,
      t.events.map((e) => ({ ...e, tenant: env.tenant, host: env.host })),
    );
    await eventually('the insight', async () => (await insightRows(env)).length === 1);
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000).unref())]);
    assert.equal(code, 0, stderr.slice(-2000));
    assert.ok(await drained(env.bus, env.config.groupId, env.config.telemetryTopic), 'offsets committed');
    assert.match(stderr, /insights service stopped/);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await env.close();
  }
});
