import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BatchDecodeError,
  decodeBatch,
  decodeRecord,
  encodeBatch,
  eventTypes,
  goldenEvents,
  jsonSchemaOf,
  telemetryJsonSchema,
  validateEvent,
} from './index.ts';

test('every event type has a golden example, and every golden example validates', () => {
  assert.deepEqual(new Set(goldenEvents.map((e) => e.type)), new Set(eventTypes));
  for (const e of goldenEvents) assert.deepEqual(validateEvent(e), { ok: true, event: e }, e.type);
});

test('an invalid event is refused with a reason naming the field', () => {
  const exit = goldenEvents.find((e) => e.type === 'process.exit')!;
  const bad = validateEvent({ ...exit, exitCode: 'one' });
  assert.equal(bad.ok, false);
  assert.match((bad as { reason: string }).reason, /^process\.exit: \/exitCode/);
  assert.match((validateEvent({ ...exit, type: 'process.nope' }) as { reason: string }).reason, /unknown event type/);
  assert.match((validateEvent([1]) as { reason: string }).reason, /not a JSON object/);
  const { tenant: _, ...noTenant } = exit;
  assert.match((validateEvent(noTenant) as { reason: string }).reason, /\/tenant/);
});

test('batches round-trip, compress, and keep undecodable lines apart', () => {
  const bytes = encodeBatch(goldenEvents);
  assert.ok(bytes.length < Buffer.byteLength(goldenEvents.map((e) => JSON.stringify(e)).join('\n')) / 2);
  assert.deepEqual(
    decodeBatch(bytes).map((r) => ('value' in r ? r.value : r)),
    goldenEvents,
  );
  assert.deepEqual(decodeBatch(encodeBatch([])), []);
  assert.throws(() => decodeBatch(Buffer.of(9, 1, 2)), BatchDecodeError);
  assert.throws(() => decodeBatch(Buffer.of(1, 1, 2)), /not valid zstd/);
});

test('JSON Schema export is plain JSON with the type discriminator', () => {
  const exit = jsonSchemaOf('process.exit');
  assert.equal((exit.properties as Record<string, { const?: string }>).type!.const, 'process.exit');
  assert.ok((exit.required as string[]).includes('peakRssBytes'));
  const all = telemetryJsonSchema();
  assert.equal((all.anyOf as unknown[]).length, eventTypes.length);
  assert.doesNotThrow(() => JSON.stringify(all));
});

test('a Kafka record: its batch items, or why the whole record is unusable', () => {
  assert.deepEqual(decodeRecord(null), { reason: 'empty record' });
  assert.deepEqual(decodeRecord(Buffer.alloc(0)), { reason: 'empty record' });
  assert.deepEqual(decodeRecord(Buffer.from('{"not":"a batch"}')), { reason: 'unknown batch format 123' });
  assert.deepEqual(decodeRecord(encodeBatch([{ a: 1 }])), { items: [{ value: { a: 1 } }] });
});
