// The attribution service process: config first (a bad variable stops it, named), then the
// service. On SIGTERM/SIGINT the bus closes (the in-flight batch commits), then the HTTP
// endpoint and the pool. Never process.exit after start.
import { closeOnSignals } from '@tracer/bus';
import { createLogger } from '@tracer/log';
import { ToolRulesError } from '../core/index.ts';
import { ConfigError, loadAttributionConfig } from './config.ts';
import { startAttribution } from './server.ts';

const log = createLogger('attribution');

let config: ReturnType<typeof loadAttributionConfig>;
try {
  config = loadAttributionConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`tracer-attribution: ${err.message}\n`);
  process.exit(2);
}

let running: Awaited<ReturnType<typeof startAttribution>>;
try {
  running = await startAttribution(config, log);
} catch (err) {
  if (!(err instanceof ToolRulesError)) throw err;
  process.stderr.write(`tracer-attribution: TRACER_ATTRIBUTION_TOOL_RULES: ${err.message}\n`);
  process.exit(2);
}
closeOnSignals(running.bus, { after: () => running.close() });
