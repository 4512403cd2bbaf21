import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zstdCompressSync } from 'node:zlib';
import { encodeBatch, goldenEvents, type TelemetryEvent } from '@tracer/events';
import { agentKey, decodeRawRecords, dedupeEvents, normalizedRecords } from './raw-events.ts';

test('records decode into valid events by tenant; each bad event is its own reject with its bytes', () => {
  const exit = goldenEvents.find((e) => e.type === 'process.exit')!;
  const good = encodeBatch(goldenEvents);
  const mixed = encodeBatch([
    { ...exit, tenant: 'beta' },
    { ...exit, seq: 99, signal: 0 },
  ]);
  const notJson = Buffer.concat([Buffer.of(1), zstdCompressSync(Buffer.from(`${JSON.stringify(exit)}\n{nope`))]);
  const decoded = decodeRawRecords([
    { ref: 'a', value: good, team: 't1' },
    { ref: 'b', value: mixed },
    { ref: 'c', value: notJson },
    { ref: 'd', value: Buffer.of(7, 7) },
    { ref: 'e', value: null },
  ]);
  assert.equal(decoded.valid, goldenEvents.length + 2);
  assert.deepEqual([...decoded.byTenant.keys()], ['acme', 'beta']);
  assert.equal(decoded.byTenant.get('acme')![0]!.team, 't1');
  assert.deepEqual(
    decoded.rejects.map((r) => [r.ref, r.value !== undefined]),
    [
      ['b', true],
      ['c', true],
      ['d', false],
      ['e', false],
    ],
  );
  assert.match(decoded.rejects[0]!.reason, /^event 1: process\.exit: \/signal/);
  assert.equal(JSON.parse(decoded.rejects[0]!.value!.toString()).seq, 99);
  assert.equal(decoded.rejects[1]!.value!.toString(), '{nope');
});

const ev = (seq: number, agentId = 'a1', type: TelemetryEvent['type'] = 'process.sample') => ({
  event: { ...goldenEvents.find((e) => e.type === type)!, seq, agentId } as TelemetryEvent,
});

test('events at or below the agent watermark are replays; gaps count events that never came', () => {
  const watermarks = new Map([[agentKey('ip-10-0-1-7', 'a1'), 5]]);
  const result = dedupeEvents([ev(4), ev(5), ev(6), ev(6), ev(9), ev(0, 'a2'), ev(1, 'a2')], watermarks);
  assert.deepEqual(
    result.fresh.map((a) => [a.event.agentId, a.event.seq]),
    [
      ['a1', 6],
      ['a1', 9],
      ['a2', 0],
      ['a2', 1],
    ],
  );
  assert.equal(result.duplicates, 3);
  const a1 = result.agents.find((a) => a.agentId === 'a1')!;
  assert.deepEqual([a1.maxSeq, a1.written, a1.duplicates, a1.gapEvents], [9, 2, 3, 2]);
  const a2 = result.agents.find((a) => a.agentId === 'a2')!;
  assert.deepEqual([a2.maxSeq, a2.written, a2.gapEvents], [1, 2, 0]);
});

test('the same batch twice writes nothing the second time', () => {
  const batch = [ev(0), ev(1), ev(2, 'a1', 'agent.stats')];
  const first = dedupeEvents(batch, new Map());
  assert.equal(first.fresh.length, 3);
  assert.equal(first.agents[0]!.stats?.droppedKernel, 0);
  const again = dedupeEvents(batch, new Map(first.agents.map((a) => [agentKey(a.host, a.agentId), a.maxSeq])));
  assert.equal(again.fresh.length, 0);
  assert.equal(again.duplicates, 3);
});

test('normalized records: a clean record whose events are all fresh goes on unchanged; others are re-encoded', () => {
  const events = goldenEvents.map((e, i) => ({ ...e, seq: i }));
  const clean = encodeBatch(events);
  const decoded = decodeRawRecords([
    { ref: 'a', value: clean, team: 't1' },
    { ref: 'b', value: encodeBatch(events.map((e) => ({ ...e, seq: e.seq + 100 }))) },
  ]);
  const all = decoded.byTenant.get('acme')!;
  const encoded: number[] = [];
  const encode = (evs: TelemetryEvent[]) => {
    encoded.push(evs.length);
    return [{ key: 'k', value: encodeBatch(evs) }];
  };
  const out = normalizedRecords(all, encode);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.value, clean, 'the first record as it came');
  assert.equal(out[0]!.key, 'acme/ip-10-0-1-7');
  assert.equal(out[0]!.team, 't1');
  assert.deepEqual(encoded, []);
  // Some events of the second record were replays: that record is re-encoded from the rest.
  const partial = normalizedRecords([...all.slice(0, events.length), ...all.slice(events.length + 3)], encode);
  assert.equal(partial.length, 2);
  assert.deepEqual(encoded, [events.length - 3]);
});
