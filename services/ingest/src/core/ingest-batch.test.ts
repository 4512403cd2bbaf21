import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBatch, encodeBatch, goldenEvents } from '@tracer/events';
import { checkIngestBatch, forwardableAsIs, planRecords } from './ingest-batch.ts';

const items = (events: unknown[]) => events.map((value) => ({ value: structuredClone(value) }));

test('every event is stamped with the key tenant, whatever the payload claims', () => {
  const claimed = goldenEvents.map((e, i) => (i % 2 ? { ...e, tenant: 'someone-else' } : e));
  const { tenant: _omit, ...noTenant } = goldenEvents[0]!;
  const checked = checkIngestBatch(items([...claimed, noTenant]), { tenant: 'acme-b' });
  assert.equal(checked.ok, true);
  if (!checked.ok) return;
  assert.ok(checked.events.every((e) => e.tenant === 'acme-b'));
  assert.equal(checked.events.length, goldenEvents.length + 1);
  assert.equal(checked.tenantRewrites, goldenEvents.length + 1);
});

test('one bad event refuses the whole batch and is named by index and reason', () => {
  const exit = goldenEvents.find((e) => e.type === 'process.exit')!;
  const batch = [
    ...items(goldenEvents),
    { value: { ...exit, exitCode: 'x' } },
    { error: 'line is not JSON: oops', line: '{' },
    { value: 7 },
  ];
  const checked = checkIngestBatch(batch, { tenant: 'acme' });
  assert.equal(checked.ok, false);
  if (checked.ok) return;
  assert.equal(checked.badCount, 3);
  const n = goldenEvents.length;
  assert.deepEqual(
    checked.errors.map((e) => e.index),
    [n, n + 1, n + 2],
  );
  assert.match(checked.errors[0]!.reason, /^process\.exit: \/exitCode/);
  assert.match(checked.errors[1]!.reason, /not JSON/);
  assert.match(checked.errors[2]!.reason, /not a JSON object/);
});

test('records are keyed tenant/host, keep each host in order and stay under the size bound', () => {
  const base = goldenEvents.find((e) => e.type === 'log.chunk')!;
  const events = Array.from({ length: 300 }, (_, i) => ({
    ...base,
    host: i % 3 ? 'h1' : 'h2',
    seq: i,
    text: 'x'.repeat(1000),
  }));
  const records = planRecords(events, 64 * 1024);
  assert.ok(records.length > 4);
  assert.deepEqual(new Set(records.map((r) => r.key)), new Set(['acme/h1', 'acme/h2']));
  for (const key of ['acme/h1', 'acme/h2']) {
    const seqs = records
      .filter((r) => r.key === key)
      .flatMap((r) => decodeBatch(r.value).map((x) => (x as { value: { seq: number } }).value.seq));
    assert.deepEqual(
      seqs,
      events.filter((e) => `acme/${e.host}` === key).map((e) => e.seq),
    );
  }
  assert.equal(
    records.reduce((n, r) => n + r.events, 0),
    300,
  );
});

test('an unchanged one-host batch may go to Kafka as received', () => {
  const ok = checkIngestBatch(items(goldenEvents), { tenant: 'acme' });
  assert.ok(ok.ok);
  if (!ok.ok) return;
  const size = encodeBatch(goldenEvents).length;
  assert.equal(forwardableAsIs(ok, size, 1024 * 1024), true);
  assert.equal(forwardableAsIs(ok, size, 10), false);
  const rewritten = checkIngestBatch(items(goldenEvents), { tenant: 'other' });
  assert.ok(rewritten.ok);
  if (rewritten.ok) assert.equal(forwardableAsIs(rewritten, size, 1024 * 1024), false);
  const twoHosts = checkIngestBatch(items([goldenEvents[0], { ...goldenEvents[1]!, host: 'h9' }]), { tenant: 'acme' });
  assert.ok(twoHosts.ok);
  if (twoHosts.ok) assert.equal(forwardableAsIs(twoHosts, size, 1024 * 1024), false);
});
