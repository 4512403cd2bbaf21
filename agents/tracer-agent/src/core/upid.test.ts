import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootIdPrefix, makeUpid, parseUpid, upidMatchesStartTicks } from './upid.ts';

test('a upid is the boot prefix, the pid and the start time', () => {
  const prefix = bootIdPrefix('478e8715-48da-4edf-99df-2eedc7601a8d\n');
  assert.equal(prefix, '478e8715');
  const upid = makeUpid(prefix, 4242, 123_456_789_000);
  assert.equal(upid, '478e8715-4242-123456789000');
  assert.deepEqual(parseUpid(upid), { bootPrefix: '478e8715', pid: 4242, startNs: 123456789000 });
  assert.equal(parseUpid('nope'), undefined);
  assert.throws(() => bootIdPrefix('abc'), /fewer than 8 hex/);
});

test('a /proc start time in ticks matches the ns start time of a BPF upid', () => {
  assert.equal(upidMatchesStartTicks('478e8715-10-123456789012', 12345), true);
  assert.equal(upidMatchesStartTicks('478e8715-10-123456789012', 12346), false);
});
