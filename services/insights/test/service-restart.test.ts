// Restart mid-stream on the real stack: the second instance resumes from the snapshot the
// first committed. It reads both topics again from the beginning (a group of its own, as if
// no offset had been committed): the replayed half must be a no-op (nothing re-published),
// and the final set must be exactly the uninterrupted one, one row per problem.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttributionChange, TelemetryEvent } from '@tracer/events';
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
  uniqueName,
} from './service-helpers.ts';

test('restart mid-stream: replays are no-ops, no duplicate insight, the same final set', async () => {
  const env = await insightsEnv('restart');
  try {
    const events = recordedEvents(env.tenant, env.host);
    const expected = essentials(expectedInsights(events));
    const slices = attributionChanges(events, 100);
    // The recorded segfault falls in the ninth slice, the missing input in the tenth.
    const half = slices.length - 1;
    const part = (from: number, to: number) => ({
      events: events.slice(from * 100, to * 100) as TelemetryEvent[],
      changes: slices.slice(from, to).flat() as AttributionChange[],
    });
    const first = part(0, half);
    const second = part(half, slices.length);
    const settled = (groupId: string) =>
      eventually('both topics consumed', async () => {
        const t = await drained(env.bus, groupId, env.config.telemetryTopic);
        return t && (await drained(env.bus, groupId, env.config.tasksTopic));
      });

    const one = await runService(env);
    await publishChanges(env, first.changes);
    await publishEvents(env, first.events);
    await settled(env.config.groupId);
    await one.close();
    const afterFirst = await insightRows(env);
    assert.deepEqual(
      afterFirst.map((r) => r.kind),
      ['signal'],
    );
    const published = (await readTopic(env.bus, env.config.insightsTopic, () => true)).length;
    const version = await env.db.pool.query('SELECT version FROM consumer_state WHERE tenant_id = $1', [env.tenant]);
    assert.equal(version.rowCount, 1);

    const groupId = uniqueName('restart.group2');
    const two = await runService(env, { groupId });
    try {
      await settled(groupId);
      // The first half again, all of it below the snapshot's watermarks.
      assert.deepEqual(await insightRows(env), afterFirst);
      const again = await readTopic(env.bus, env.config.insightsTopic, (m) => m.length >= published);
      assert.equal(again.length, published, 'the replay published nothing');
      await publishChanges(env, second.changes);
      await publishEvents(env, second.events);
      await settled(groupId);
      const rows = await eventually('the final set', async () => {
        const r = await insightRows(env);
        return JSON.stringify(essentials(r.map((x) => x.record))) === JSON.stringify(expected) && r;
      });
      assert.equal(rows.length, expected.length);
      assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
    } finally {
      await two.close();
    }
  } finally {
    await env.close();
  }
});

test('two instances, the host split between them (3 partitions, 2 members): the same final set', async () => {
  // kafkajs's round robin puts partition p of the two topics on different members when the
  // partition count is not a multiple of the member count: each transaction then finds the
  // snapshot saved by the other instance and reloads it.
  const env = await insightsEnv('split', { topicPartitions: 3 });
  const one = await runService(env);
  const two = await runService(env);
  try {
    const events = recordedEvents(env.tenant, env.host);
    const expected = essentials(expectedInsights(events));
    await publishChanges(env, attributionChanges(events).flat());
    await publishEvents(env, events);
    let last: unknown;
    await eventually('the final set', async () => {
      const r = await insightRows(env);
      last = essentials(r.map((x) => x.record));
      return JSON.stringify(last) === JSON.stringify(expected);
    }).catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify({ last, expected })}`);
    });
    const { rows } = await env.db.pool.query<{ version: string }>(
      'SELECT version FROM consumer_state WHERE tenant_id = $1',
      [env.tenant],
    );
    assert.equal(rows.length, 1);
    assert.ok(one.consumer.runner.stats().batches > 0 && two.consumer.runner.stats().batches > 0, 'both handled some');
  } finally {
    await two.close();
    await one.close();
    await env.close();
  }
});
