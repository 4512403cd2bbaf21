// The ingest gateway process: config first (a bad variable stops it, named), then the
// server; SIGTERM/SIGINT drain in-flight requests and close connections. Never process.exit
// after start-up: the process ends when nothing is left to run.
import { createLogger } from '@tracer/log';
import { ConfigError, loadGatewayConfig } from '../config.ts';
import { startGateway } from './server.ts';

const log = createLogger('ingest-gateway');

let config: ReturnType<typeof loadGatewayConfig>;
try {
  config = loadGatewayConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`tracer-ingest-gateway: ${err.message}\n`);
  process.exit(2);
}

const gateway = await startGateway(config, log);
const stop = (signal: NodeJS.Signals) => {
  log.info({ signal }, 'stopping');
  gateway.close().catch((err: Error) => {
    log.error({ err }, 'stop failed');
    process.exitCode = 1;
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
