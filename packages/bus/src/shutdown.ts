import { createLogger } from '@tracer/log';
import type { Bus } from './types.ts';

/** Long enough for a batch in flight to commit; shorter than Kubernetes' 30 s before SIGKILL. */
export const SHUTDOWN_GRACE_MS = 25_000;

/**
 * On the first SIGTERM or SIGINT: close the bus (consumers stop fetching, in-flight batches
 * commit, connections close; or a whole service: anything with close()), then run `after`
 * (close the database pool last). The process then ends when nothing is left to run. If that
 * has not happened within `graceMs`, it exits with status 1: kafkajs can wait forever to leave
 * a group that is rebalancing (tulios/kafkajs#1462), and offsets are committed only after the
 * work they cover, so the next member redoes what was cut, nothing is lost. A second signal
 * gets Node's default behaviour, so an operator can still force the stop at once.
 */
export function closeOnSignals(
  bus: Pick<Bus, 'close'>,
  options: { signals?: NodeJS.Signals[]; after?: () => Promise<void>; graceMs?: number } = {},
): () => void {
  const log = createLogger('bus');
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const graceMs = options.graceMs ?? SHUTDOWN_GRACE_MS;
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error({ graceMs }, 'shutdown did not finish in time; exiting (uncommitted work is redelivered)');
      process.exit(1);
    }, graceMs).unref();
    bus
      .close()
      .then(() => options.after?.())
      .then(
        () => log.info('shut down'),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exitCode = 1;
        },
      );
  };
  const remove = () => {
    for (const s of signals) process.off(s, onSignal);
  };
  for (const s of signals) process.once(s, onSignal);
  return remove;
}
