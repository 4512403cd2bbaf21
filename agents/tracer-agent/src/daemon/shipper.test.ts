import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeBatch, encodeBatch } from '@tracer/events';
import { createLogger } from '@tracer/log';
import { Shipper } from './shipper.ts';
import type { SendOutcome, Sink } from './sinks/sink.ts';
import { Spool } from './spool.ts';

const log = createLogger('shipper-test');
log.level = 'silent';
const dirs: string[] = [];
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function spool(): Spool {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-shipper-'));
  dirs.push(dir);
  return Spool.open({ dir, maxBytes: 4 * 1024 * 1024 });
}

/** Appends `n` batches of `size` events (objects with their seq) starting at seq `from`. */
function fill(s: Spool, from: number, n: number, size = 5): number {
  let seq = from;
  for (let b = 0; b < n; b++) {
    const events = Array.from({ length: size }, () => ({ seq: seq++ }));
    s.append(encodeBatch(events), size, events[0]!.seq, events[size - 1]!.seq);
  }
  return seq;
}

/** A sink that records what it got and answers from a script (then 'sent'). */
function recordingSink(script: SendOutcome[] = [], maxRecordsPerSend = 1): Sink & { seqs: number[]; calls: number } {
  const sink = {
    name: 'recording',
    maxRecordsPerSend,
    maxBytesPerSend: Number.POSITIVE_INFINITY,
    seqs: [] as number[],
    calls: 0,
    async send(batches: Buffer[]): Promise<SendOutcome> {
      sink.calls++;
      const outcome = script.shift() ?? { kind: 'sent' };
      if (outcome.kind === 'sent') {
        for (const b of batches)
          for (const r of decodeBatch(b)) sink.seqs.push((r as { value: { seq: number } }).value.seq);
      }
      return outcome;
    },
    async close() {},
  };
  return sink;
}

const until = async (check: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('the spool goes out in order; failures are retried without losing or reordering anything', async () => {
  const s = spool();
  fill(s, 0, 6);
  const sink = recordingSink([
    { kind: 'retry', reason: 'down' },
    { kind: 'retry', reason: 'down', afterMs: 1 },
    { kind: 'sent' },
    { kind: 'retry', reason: 'again' },
  ]);
  const shipper = new Shipper({ spool: s, sink, log, minBackoffMs: 1, maxBackoffMs: 5 });
  shipper.start();
  await until(() => s.stats().pendingEvents === 0);
  await shipper.stop();
  assert.deepEqual(
    sink.seqs,
    Array.from({ length: 30 }, (_, i) => i),
  );
  assert.equal(s.stats().sentEvents, 30);
  assert.equal(shipper.status.state, 'ok');
});

test('a batch refused for good is counted and skipped; the next ones still go', async () => {
  const s = spool();
  fill(s, 0, 3);
  const sink = recordingSink([{ kind: 'sent' }, { kind: 'rejected', reason: 'invalid' }]);
  const shipper = new Shipper({ spool: s, sink, log, minBackoffMs: 1 });
  shipper.start();
  await until(() => s.stats().pendingEvents === 0);
  await shipper.stop();
  assert.deepEqual(sink.seqs, [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]);
  assert.equal(s.stats().rejectedEvents, 5);
  assert.equal(s.stats().sentEvents, 10);
});

test('a batch too large for the sink goes in halves', async () => {
  const s = spool();
  fill(s, 0, 1, 8);
  const sink = recordingSink([
    { kind: 'too-large', reason: '413' },
    { kind: 'too-large', reason: '413' },
  ]);
  const shipper = new Shipper({ spool: s, sink, log, minBackoffMs: 1 });
  shipper.start();
  await until(() => s.stats().pendingEvents === 0);
  await shipper.stop();
  assert.deepEqual(sink.seqs, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(s.stats().sentEvents, 8);
});

test('several records per send when the sink takes them; new batches are shipped as they come', async () => {
  const s = spool();
  const sink = recordingSink([], 4);
  const shipper = new Shipper({ spool: s, sink, log, minBackoffMs: 1 });
  shipper.start();
  let next = fill(s, 0, 10);
  shipper.notify();
  await until(() => s.stats().pendingEvents === 0);
  next = fill(s, next, 2);
  shipper.notify();
  await until(() => s.stats().pendingEvents === 0, 500);
  await shipper.stop();
  assert.deepEqual(
    sink.seqs,
    Array.from({ length: next }, (_, i) => i),
  );
  assert.ok(sink.calls <= 5, `${sink.calls} sends`);
});
