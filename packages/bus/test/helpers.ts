// Test aids for the integration suites: a bus on the local stack's real Kafka, unique names
// per test, and consumers tuned to join and notice failures in seconds.
import { randomBytes } from 'node:crypto';
import { stackAddresses } from '@tracer/local';
import { createLogger } from '@tracer/log';
import { type Bus, type ConsumerTuning, createKafkaBus } from '../src/index.ts';

/** Short sessions so a dead member leaves the group fast (6 s is the broker's default minimum). */
export const fastTuning: ConsumerTuning = {
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 6000,
  maxWaitMs: 100,
};

export const fastRetry = { initialDelayMs: 20, maxDelayMs: 100 };

export function testBus(): Bus {
  const log = createLogger('bus-test');
  log.level = process.env.TRACER_LOG_LEVEL ?? 'error';
  return createKafkaBus({ brokers: stackAddresses().kafkaBrokers, clientId: 'tracer-bus-test', logger: log });
}

export function uniqueName(prefix: string): string {
  return `test.${prefix}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;
}

/** Resolves when `check` holds, polling; fails after `timeoutMs` with `what` in the message. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function offsetsOf(list: { offset: string }[]): string[] {
  return list.map((p) => p.offset);
}
