import type { RetryPolicy } from './types.ts';

export const defaultRetryPolicy: RetryPolicy = { initialDelayMs: 200, maxDelayMs: 30_000, factor: 2, jitter: 0.2 };

/** Delay before retry number `attempt` (1-based): exponential, capped, minus up to `jitter` of it. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** exponent);
  return Math.round(base * (1 - policy.jitter * random()));
}

export function resolveRetryPolicy(partial: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...defaultRetryPolicy, ...partial };
  if (!(policy.initialDelayMs >= 0 && policy.maxDelayMs >= policy.initialDelayMs && policy.factor >= 1)) {
    throw new Error(`invalid retry policy ${JSON.stringify(policy)}`);
  }
  if (!(policy.jitter >= 0 && policy.jitter <= 1))
    throw new Error(`retry jitter must be within 0..1, got ${policy.jitter}`);
  return policy;
}
