// The insights service process: config first (a bad variable stops it, named), then the
// service; SIGTERM/SIGINT close the bus (the in-flight batch commits), then the rest.
import { closeOnSignals } from '@tracer/bus';
import { createLogger } from '@tracer/log';
import { ConfigError, loadServiceConfig, type ServiceConfig } from './config.ts';
import { startInsights } from './server.ts';

const log = createLogger('insights');

let config: ServiceConfig;
try {
  config = loadServiceConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`tracer-insights: ${err.message}\n`);
  process.exit(2);
}

const running = await startInsights(config, log);
closeOnSignals(running.bus, { after: () => running.close() });
