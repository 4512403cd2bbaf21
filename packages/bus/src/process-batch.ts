// What a consumer does with one fetched batch, independent of the Kafka client: run the
// handler, dead-letter what it rejects, commit, and decide between retrying and isolating
// a failure. The adapter supplies the few actions below; the logic is tested without a broker.
import type { Logger } from '@tracer/log';
import { isPermanent } from './permanent-error.ts';
import { retryDelayMs } from './retry-policy.ts';
import type { BatchHandler, ConsumedMessage, ConsumerStats, Reject, RetryPolicy } from './types.ts';

/** Under any sane heartbeat interval; kafkajs sends a heartbeat only when one is due. */
const HEARTBEAT_SLICE_MS = 1000;

export interface BatchActions {
  /** False once the consumer is stopping: retries are abandoned and nothing more commits. */
  isRunning(): boolean;
  heartbeat(): Promise<void>;
  /** Produces rejects to the dead-letter topic; resolves once they are acknowledged. */
  deadLetter(rejects: Reject[]): Promise<void>;
  /** Commits everything up to and including `last`. */
  commit(last: ConsumedMessage): Promise<void>;
  /** Waits `ms`, returning early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface BatchRun {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  handler: BatchHandler;
  actions: BatchActions;
  retry: RetryPolicy;
  stats: ConsumerStats;
  signal: AbortSignal;
  log: Logger;
}

/**
 * Returns when every message is committed (handled or dead-lettered), or early, with the
 * remainder uncommitted, when the consumer stops. Errors of the actions themselves (commit
 * refused after a rebalance, say) propagate: the client rejoins and the batch comes again.
 */
export async function processBatch(run: BatchRun): Promise<void> {
  const { topic, partition, handler, actions, stats, log } = run;
  const ctx = { topic, partition, heartbeat: () => actions.heartbeat(), signal: run.signal };
  // Segments still to do, in offset order. A PermanentError thrown for several messages
  // splits its segment in halves until the failing message stands alone.
  const pending: ConsumedMessage[][] = [run.messages];
  stats.batches++;
  while (pending.length > 0) {
    const segment = pending.shift()!;
    if (segment.length === 0) continue;
    for (let attempt = 1; ; attempt++) {
      if (!actions.isRunning()) return;
      let rejects: Reject[];
      try {
        rejects = (await handler(segment, ctx))?.rejects ?? [];
      } catch (err) {
        if (isPermanent(err)) {
          if (segment.length === 1) {
            rejects = [{ message: segment[0]!, reason: (err as Error).message }];
          } else {
            const half = Math.ceil(segment.length / 2);
            pending.unshift(segment.slice(0, half), segment.slice(half));
            break;
          }
        } else {
          stats.retries++;
          const delayMs = retryDelayMs(run.retry, attempt);
          log.warn(
            { topic, partition, offset: segment[0]!.offset, count: segment.length, attempt, delayMs, err },
            'batch handler failed; retrying without committing',
          );
          // Long backoffs must not cost the group membership: heartbeat between slices.
          for (let left = delayMs; left > 0 && actions.isRunning(); left -= HEARTBEAT_SLICE_MS) {
            await actions.heartbeat();
            await actions.sleep(Math.min(left, HEARTBEAT_SLICE_MS), run.signal);
          }
          continue;
        }
      }
      if (rejects.length > 0) {
        await actions.deadLetter(rejects);
        stats.deadLettered += rejects.length;
      }
      await actions.commit(segment[segment.length - 1]!);
      stats.committed += segment.length;
      break;
    }
  }
}
