import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serialize } from 'node:v8';
import type { ConsumedMessage } from '@tracer/bus';
import { type AttributionChange, encodeBatch, type TelemetryEvent } from '@tracer/events';
import { attribute } from '../core/index.ts';
import { fixtureEvents } from '../core/test-events.ts';
import { defaultToolRules } from '../tool-rules-file.ts';
import { groupByHost, TEAM_HEADER } from './attribution-consumer.ts';
import { ConfigError, loadAttributionConfig } from './config.ts';
import { decodeHostState, encodeHostState, newHostState, takeFresh } from './host-state.ts';
import { isoMicros, planRows } from './rows.ts';

test('config: defaults, and every bad variable named', () => {
  const c = loadAttributionConfig({ TRACER_ATTRIBUTION_LOCAL_HOST: 'none' });
  assert.equal(c.port, 18102);
  assert.equal(c.inputTopic, 'telemetry.normalized.v1');
  assert.equal(c.outputTopic, 'tasks.v1');
  assert.equal(c.localHost, null);
  assert.throws(
    () =>
      loadAttributionConfig({
        TRACER_KAFKA_BROKERS: 'a b',
        TRACER_DATABASE_URL: 'http://x',
        TRACER_ATTRIBUTION_PORT: '-1',
      }),
    (err: Error) =>
      err instanceof ConfigError &&
      /TRACER_KAFKA_BROKERS/.test(err.message) &&
      /TRACER_DATABASE_URL/.test(err.message) &&
      /TRACER_ATTRIBUTION_PORT/.test(err.message),
  );
});

test('timestamps keep microseconds', () => {
  assert.equal(isoMicros(1_795_321_338_016_198_000), '2026-11-22T04:22:18.016198Z');
  assert.equal(isoMicros(1_000_000), '1970-01-01T00:00:00.001000Z');
});

test('row plan: the last change of a record wins, deletes included', () => {
  const events = fixtureEvents('snakemake-7-ok.strace.jsonl');
  const state = newHostState('t', 'h', defaultToolRules());
  const changes: AttributionChange[] = [];
  for (let i = 0; i < events.length; i += 20)
    changes.push(...attribute(state.attribution, events.slice(i, i + 20)).changes);
  const plan = planRows(changes);
  const tasks = plan.upserts.get('task')!;
  assert.equal(new Set(tasks.map((r) => r.id)).size, tasks.length);
  assert.ok(tasks.every((r) => r.status !== 'running'));
  const step = changes.find((c) => c.entity === 'step')!;
  const deleted = planRows([step, { ...step, op: 'delete' }]);
  assert.deepEqual(deleted.deletes.get('step'), [step.record.id]);
  assert.equal(deleted.upserts.size, 0);
});

test('host state: watermarks skip replays; a snapshot round-trips with the rules re-attached', () => {
  const rules = defaultToolRules();
  const events = fixtureEvents('snakemake-7-ok.strace.jsonl');
  const state = newHostState('t', 'h', rules);
  assert.equal(takeFresh(state.watermarks, events.slice(0, 50)).length, 50);
  assert.equal(takeFresh(state.watermarks, events.slice(0, 60)).length, 10);
  attribute(state.attribution, events.slice(0, 60));
  const back = decodeHostState(7, encodeHostState(state), rules)!;
  assert.equal(back.version, 7);
  assert.equal(back.attribution.rules, rules);
  assert.deepEqual(back.watermarks, state.watermarks);
  assert.deepEqual(back.attribution.procs, state.attribution.procs);
  assert.equal(decodeHostState(7, serialize({ format: 0 }), rules), undefined, 'another format starts afresh');
});

test('grouping: one group per tenant/host, one chunk per record; bad records and events rejected with the reason', () => {
  const events = fixtureEvents('snakemake-7-ok.strace.jsonl').slice(0, 6);
  const other = events.map((e) => ({ ...e, host: 'other' })) as TelemetryEvent[];
  const message = (value: Buffer | null, team?: string): ConsumedMessage => ({
    topic: 't',
    partition: 0,
    offset: '0',
    key: null,
    value,
    headers: team ? { [TEAM_HEADER]: Buffer.from(team) } : {},
    timestamp: '0',
  });
  const { groups, rejects } = groupByHost([
    message(encodeBatch(events.slice(0, 3)), 'team-1'),
    message(encodeBatch([...events.slice(3), { ...other[0], seq: 'x' }, ...other.slice(1)])),
    message(Buffer.from('junk')),
    message(null),
  ]);
  assert.deepEqual(
    groups.map((g) => [g.host, g.team, g.chunks.map((c) => c.length)]),
    [
      ['strace', 'team-1', [3, 3]],
      ['other', undefined, [5]],
    ],
  );
  assert.deepEqual(
    rejects.map((r) => r.reason.split(':')[0]),
    ['event 3', 'unknown batch format 106', 'empty record'],
  );
});
