import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultRetryPolicy, resolveRetryPolicy, retryDelayMs } from './retry-policy.ts';

const noJitter = { ...defaultRetryPolicy, initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 };

test('delays grow exponentially from the initial delay and stop at the cap', () => {
  const delays = [1, 2, 3, 4, 5, 6, 20].map((n) => retryDelayMs(noJitter, n));
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
});

test('jitter only shortens a delay, by at most its share', () => {
  const policy = { ...noJitter, jitter: 0.5 };
  assert.equal(
    retryDelayMs(policy, 3, () => 0),
    400,
  );
  assert.equal(
    retryDelayMs(policy, 3, () => 0.999999),
    200,
  );
  for (let i = 0; i < 100; i++) {
    const d = retryDelayMs(policy, 2);
    assert.ok(d >= 100 && d <= 200, `${d}`);
  }
});

test('a huge attempt number stays at the cap instead of overflowing', () => {
  assert.equal(retryDelayMs(noJitter, 10_000), 1000);
});

test('bad policies are refused at start', () => {
  assert.throws(() => resolveRetryPolicy({ factor: 0.5 }), /invalid retry policy/);
  assert.throws(() => resolveRetryPolicy({ jitter: 2 }), /jitter/);
  assert.deepEqual(resolveRetryPolicy(undefined), defaultRetryPolicy);
});
