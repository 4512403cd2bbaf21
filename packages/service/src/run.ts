// The shape of every service's main.ts: read the config (a bad variable stops the process with
// exit code 2, named), start, and on the first SIGTERM/SIGINT close what was started: the
// process ends when nothing is left to run, or exits 1 after closeOnSignals' grace period; a
// second signal gets Node's default behaviour, so an operator can still force the stop.
import { closeOnSignals } from '@tracer/bus';
import type { Logger } from '@tracer/log';
import { ConfigError } from './config.ts';

export interface ServiceMain<C, R extends { close(): Promise<void> }> {
  /** Process name, the prefix of start-up errors: tracer-attribution. */
  name: string;
  log: Logger;
  loadConfig: () => C;
  start: (config: C, log: Logger) => Promise<R>;
  /** A start-up failure that is the operator's to fix: its message (naming the key), else undefined. */
  startProblem?: (err: unknown) => string | undefined;
}

function stopWith(name: string, message: string): never {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(2);
}

export async function runService<C, R extends { close(): Promise<void> }>(main: ServiceMain<C, R>): Promise<R> {
  let config: C;
  try {
    config = main.loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    stopWith(main.name, err.message);
  }
  let running: R;
  try {
    running = await main.start(config, main.log);
  } catch (err) {
    const problem = main.startProblem?.(err);
    if (problem === undefined) throw err;
    stopWith(main.name, problem);
  }
  closeOnSignals(running);
  return running;
}
