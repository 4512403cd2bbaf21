// Per-tenant rate limit: a token bucket in Redis, measured in events, shared by every
// gateway. One Lua script refills and takes atomically on Redis's own clock, so gateways
// with skewed clocks still agree.
import type { Redis } from 'ioredis';

const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (math.max(0, now - at) * rate / 1000))
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait}
`;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface RateLimiter {
  take(tenant: string, events: number): Promise<RateDecision>;
}

export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #rate: number;
  readonly #burst: number;
  readonly #prefix: string;

  constructor(redis: Redis, options: { eventsPerSecond: number; burstEvents: number; keyPrefix?: string }) {
    this.#redis = redis;
    this.#rate = options.eventsPerSecond;
    this.#burst = options.burstEvents;
    this.#prefix = options.keyPrefix ?? 'tracer:ingest:rate:';
    redis.defineCommand('tracerTakeTokens', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  }

  async take(tenant: string, events: number): Promise<RateDecision> {
    // A batch bigger than the whole bucket could never pass: it costs a full bucket instead.
    const cost = Math.min(Math.max(1, events), this.#burst);
    const [allowed, wait] = (await (
      this.#redis as unknown as { tracerTakeTokens(key: string, ...args: number[]): Promise<[number, number]> }
    ).tracerTakeTokens(`${this.#prefix}${tenant}`, this.#rate, this.#burst, cost)) ?? [1, 0];
    return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Math.max(1, wait) };
  }
}
