import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBatch, goldenEvents, hostKey } from '@tracer/events';
import { eventBatchMessages } from './event-batches.ts';

test('events are grouped per tenant/host, keyed by hostKey, chunked, order kept', () => {
  const base = goldenEvents[0]!;
  const events = Array.from({ length: 7 }, (_, i) => ({ ...base, host: i % 2 ? 'b' : 'a', seq: i }));
  const messages = eventBatchMessages(events, 3);
  const decoded = messages.map((m) => ({
    key: m.key,
    seqs: decodeBatch(m.value as Buffer).map((l) => ('value' in l ? (l.value as { seq: number }).seq : -1)),
  }));
  assert.deepEqual(decoded, [
    { key: hostKey(base.tenant, 'a'), seqs: [0, 2, 4] },
    { key: hostKey(base.tenant, 'a'), seqs: [6] },
    { key: hostKey(base.tenant, 'b'), seqs: [1, 3, 5] },
  ]);
});
