import { createLogger } from '@tracer/log';
import type { Bus } from './types.ts';

/**
 * On the first SIGTERM or SIGINT: close the bus (consumers stop fetching, in-flight batches
 * commit, connections close; or a whole service: anything with close()), then run `after`
 * (close the database pool last). It never calls process.exit: the process ends when nothing
 * is left to run. A second signal gets Node's default behaviour, so an operator can still
 * force the stop.
 */
export function closeOnSignals(
  bus: Pick<Bus, 'close'>,
  options: { signals?: NodeJS.Signals[]; after?: () => Promise<void> } = {},
): () => void {
  const log = createLogger('bus');
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    log.info({ signal }, 'shutting down');
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
