// The raw consumer process: config first (a bad variable stops it, named), then the consumer;
// SIGTERM/SIGINT let the in-flight batch commit, then close. Never process.exit after start.
import { createLogger } from '@tracer/log';
import { ConfigError, loadConsumerConfig } from '../config.ts';
import { startConsumer } from './server.ts';

const log = createLogger('ingest-consumer');

let config: ReturnType<typeof loadConsumerConfig>;
try {
  config = loadConsumerConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`tracer-ingest-consumer: ${err.message}\n`);
  process.exit(2);
}

const running = await startConsumer(config, log);
const stop = (signal: NodeJS.Signals) => {
  log.info({ signal }, 'stopping');
  running.close().catch((err: Error) => {
    log.error({ err }, 'stop failed');
    process.exitCode = 1;
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
