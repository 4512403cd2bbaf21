// The insights service behind the real attribution service: both consume the same normalized
// topic (groups of their own), attribution publishes tasks.v1 as it does in production, and
// the insights in the table name the tasks attribution made, as analyzeTrace with the
// attribution core names them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAttributionConfig } from '../../attribution/src/service/config.ts';
import { startAttribution } from '../../attribution/src/service/server.ts';
import { essentials, expectedInsights, recordedEvents } from './recorded-trace.ts';
import {
  eventually,
  insightRows,
  insightsEnv,
  publishEvents,
  quietLogger,
  runService,
  uniqueName,
} from './service-helpers.ts';

test('telemetry -> attribution service -> tasks.v1 -> insights service: insights on the attribution tasks', async () => {
  const env = await insightsEnv('chain');
  const attribution = await startAttribution(
    loadAttributionConfig({
      ...process.env,
      TRACER_DATABASE_URL: env.config.databaseUrl,
      TRACER_ATTRIBUTION_INPUT_TOPIC: env.config.telemetryTopic,
      TRACER_ATTRIBUTION_OUTPUT_TOPIC: env.config.tasksTopic,
      TRACER_ATTRIBUTION_GROUP: uniqueName('chain.attribution'),
      TRACER_ATTRIBUTION_TOPIC_PARTITIONS: String(env.config.topicPartitions),
      TRACER_ATTRIBUTION_PORT: '0',
      TRACER_ATTRIBUTION_LOCAL_HOST: 'none',
    }),
    quietLogger('attribution-test'),
  );
  const insights = await runService(env);
  try {
    await attribution.consumer.runner.ready;
    const events = recordedEvents(env.tenant, env.host);
    const expected = essentials(expectedInsights(events));
    assert.ok(expected.length === 2 && expected.every((i) => i.taskId));
    await publishEvents(env, events, 20);
    let last: unknown;
    await eventually('the insights on their tasks', async () => {
      last = essentials((await insightRows(env)).map((r) => r.record));
      return JSON.stringify(last) === JSON.stringify(expected);
    }).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify({ last, expected })}`);
    });
    // The task each insight names is a row attribution wrote.
    const { rows } = await env.db.pool.query<{ id: string; status: string }>(
      'SELECT t.id, t.status FROM tasks t JOIN insights i ON i.tenant_id = t.tenant_id AND i.task_id = t.id WHERE t.tenant_id = $1 ORDER BY t.id',
      [env.tenant],
    );
    assert.deepEqual(
      rows.map((r) => r.status),
      ['failed', 'failed'],
    );
  } finally {
    await insights.close();
    await attribution.close();
    await env.close();
  }
});
