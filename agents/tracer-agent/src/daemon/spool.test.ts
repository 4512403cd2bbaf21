import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Spool } from './spool.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tracer-spool-'));
  dirs.push(d);
  return d;
};
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const payload = (seq: number, size = 1000) => Buffer.alloc(size, seq % 251);
/** Appends records of 10 events each: seqs 10k..10k+9. */
const fill = (spool: Spool, from: number, to: number, size = 1000) => {
  for (let k = from; k < to; k++) spool.append(payload(k, size), 10, k * 10, k * 10 + 9);
};

test('records come back in order, survive a reopen, and acknowledged ones are not sent again', () => {
  const dir = tempDir();
  let spool = Spool.open({ dir, maxBytes: 1024 * 1024, segmentBytes: 64 * 1024 });
  fill(spool, 0, 200);
  const first = spool.peek(3);
  assert.deepEqual(
    first.map((r) => r.firstSeq),
    [0, 10, 20],
  );
  assert.deepEqual(first[1]!.payload, payload(1));
  spool.ack(first[1]!);
  assert.equal(spool.stats().pendingEvents, 1980);
  assert.equal(spool.stats().sentEvents, 20);
  spool.close();

  spool = Spool.open({ dir, maxBytes: 1024 * 1024, segmentBytes: 64 * 1024 });
  assert.equal(spool.nextSeq(), 2000);
  assert.deepEqual(
    spool.peek(2).map((r) => r.firstSeq),
    [20, 30],
  );
  // Drain all: finished segments are deleted, the one being written stays.
  for (let batch = spool.peek(50); batch.length > 0; batch = spool.peek(50)) spool.ack(batch[batch.length - 1]!);
  assert.equal(spool.stats().pendingEvents, 0);
  assert.equal(spool.stats().sentEvents, 2000);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.spool')).length, 1);
  spool.close();
  assert.equal(Spool.open({ dir, maxBytes: 1024 * 1024 }).nextSeq(), 2000);
});

test('a full spool evicts its oldest segments first and counts every event lost', () => {
  const dir = tempDir();
  const spool = Spool.open({ dir, maxBytes: 256 * 1024, segmentBytes: 64 * 1024 });
  fill(spool, 0, 1000); // ~1 MB through a 256 KiB spool
  const stats = spool.stats();
  assert.ok(stats.bytes <= 256 * 1024, `${stats.bytes}`);
  assert.equal(stats.evictedEvents + stats.pendingEvents, 10_000);
  assert.ok(stats.evictedEvents > 0);
  // What is left is the newest, in order and without holes.
  const left = spool.peek(10_000);
  assert.equal(left[left.length - 1]!.lastSeq, 9999);
  for (let i = 1; i < left.length; i++) assert.equal(left[i]!.firstSeq, left[i - 1]!.lastSeq + 1);
  assert.equal(left[0]!.firstSeq, stats.evictedEvents);
});

test('a torn last record is cut off at open; the records before it stay', () => {
  const dir = tempDir();
  const spool = Spool.open({ dir, maxBytes: 1024 * 1024 });
  fill(spool, 0, 5);
  spool.close();
  const segment = join(dir, readdirSync(dir).find((f) => f.endsWith('.spool'))!);
  appendFileSync(segment, Buffer.from([0x50, 0x53, 0x52, 0x54, 1, 2, 3])); // half a header
  let reopened = Spool.open({ dir, maxBytes: 1024 * 1024 });
  assert.equal(reopened.peek(100).length, 5);
  reopened.append(payload(5), 10, 50, 59);
  reopened.close();
  truncateSync(segment, 5 * 1032 + 100); // the sixth record half written
  reopened = Spool.open({ dir, maxBytes: 1024 * 1024 });
  assert.deepEqual(
    reopened.peek(100).map((r) => r.firstSeq),
    [0, 10, 20, 30, 40],
  );
  assert.equal(reopened.nextSeq(), 60, 'agent.json keeps the highest seq handed out');
});

test('the agent id is made once and kept', () => {
  const dir = tempDir();
  const a = Spool.open({ dir, maxBytes: 1024 * 1024 }).agentId(() => 'agent-one');
  assert.equal(a, 'agent-one');
  assert.equal(
    Spool.open({ dir, maxBytes: 1024 * 1024 }).agentId(() => 'agent-two'),
    'agent-one',
  );
});

test('records being sent are never evicted: they count as sent once acknowledged, not as lost', () => {
  const dir = tempDir();
  const spool = Spool.open({ dir, maxBytes: 256 * 1024, segmentBytes: 64 * 1024 });
  fill(spool, 0, 50);
  const inFlight = spool.peek(1);
  spool.beginSend(inFlight);
  fill(spool, 50, 1000); // the spool overflows many times while that send is out
  spool.ack(inFlight[0]!);
  spool.endSend();
  const stats = spool.stats();
  assert.equal(stats.sentEvents, 10);
  assert.equal(stats.sentEvents + stats.evictedEvents + stats.pendingEvents, 10_000);
  // The rest of the segment that was being sent stayed; then one gap: the evicted events.
  const left = spool.peek(10_000);
  assert.equal(left[0]!.firstSeq, 10);
  let gap = 0;
  for (let i = 1; i < left.length; i++) gap += left[i]!.firstSeq - left[i - 1]!.lastSeq - 1;
  assert.equal(gap, stats.evictedEvents);
  assert.equal(left[left.length - 1]!.lastSeq, 9999);
});
