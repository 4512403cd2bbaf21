import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  boundReason,
  deadLetterHeaders,
  deadLetterMessage,
  deadLetterTopicOf,
  MAX_REASON_BYTES,
  readDeadLetter,
} from './dead-letter.ts';
import type { ConsumedMessage } from './types.ts';

const original: ConsumedMessage = {
  topic: 'telemetry.raw.v1',
  partition: 3,
  offset: '9007199254740993',
  key: Buffer.from('acme/host-1'),
  value: Buffer.from([0x01, 0xff, 0x00, 0x7f]),
  headers: { 'content-type': Buffer.from('application/x-tracer-batch') },
  timestamp: '1763784000000',
};

test('the dead letter keeps key, bytes and headers, and says why and where from', () => {
  const at = new Date('2026-11-22T04:00:00Z');
  const out = deadLetterMessage(
    { message: original, reason: 'process.exit: /exitCode: Expected integer' },
    'ingest-raw',
    at,
  );
  assert.equal(out.key, original.key);
  assert.equal(out.value, original.value);
  assert.deepEqual(out.headers, {
    'content-type': original.headers['content-type'],
    [deadLetterHeaders.reason]: 'process.exit: /exitCode: Expected integer',
    [deadLetterHeaders.sourceTopic]: 'telemetry.raw.v1',
    [deadLetterHeaders.sourcePartition]: '3',
    [deadLetterHeaders.sourceOffset]: '9007199254740993',
    [deadLetterHeaders.sourceTimestamp]: '1763784000000',
    [deadLetterHeaders.groupId]: 'ingest-raw',
    [deadLetterHeaders.failedAt]: '2026-11-22T04:00:00.000Z',
  });
});

test('a reject may carry its own bytes (one bad event of a batch)', () => {
  const value = Buffer.from('{"type":"nope"}');
  assert.equal(deadLetterMessage({ message: original, reason: 'x', value }, 'g').value, value);
});

test('reading back a dead letter as it arrives from the broker', () => {
  const out = deadLetterMessage({ message: original, reason: 'bad' }, 'g');
  const headers = Object.fromEntries(Object.entries(out.headers ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
  const info = readDeadLetter({ ...original, topic: 'telemetry.raw.v1.dlq', headers });
  assert.deepEqual(info, {
    reason: 'bad',
    sourceTopic: 'telemetry.raw.v1',
    sourcePartition: 3,
    sourceOffset: '9007199254740993',
    groupId: 'g',
  });
  assert.equal(readDeadLetter(original), undefined);
});

test('long reasons are cut to the bound on a character boundary', () => {
  const long = 'é'.repeat(MAX_REASON_BYTES);
  const bounded = boundReason(long);
  assert.ok(Buffer.byteLength(bounded) <= MAX_REASON_BYTES);
  assert.match(bounded, /^é+ …\[truncated\]$/);
  assert.equal(boundReason('short'), 'short');
});

test('the dead-letter topic of telemetry.raw.v1 is the one events names', async () => {
  const { topics } = await import('@tracer/events');
  assert.equal(deadLetterTopicOf(topics.raw), topics.rawDeadLetter);
});
