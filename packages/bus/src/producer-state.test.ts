import assert from 'node:assert/strict';
import { test } from 'node:test';
import { producerStateLost } from './producer-state.ts';

test('the broker losing the producer state is told apart from errors a resend fixes', () => {
  for (const code of [45, 47, 59]) assert.equal(producerStateLost({ code, type: 'X' }), true, String(code));
  // NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT, a network error, nothing at all
  for (const err of [{ code: 6 }, { code: 7 }, new Error('ECONNREFUSED'), null, undefined]) {
    assert.equal(producerStateLost(err), false, JSON.stringify(err));
  }
});
