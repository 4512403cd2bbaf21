// The ingest gateway process: config first (a bad variable stops it, named), then the
// server; SIGTERM/SIGINT drain in-flight requests and close connections, within runService's
// grace period.
import { createLogger } from '@tracer/log';
import { runService } from '@tracer/service';
import { loadGatewayConfig } from '../config.ts';
import { startGateway } from './server.ts';

await runService({
  name: 'tracer-ingest-gateway',
  log: createLogger('ingest-gateway'),
  loadConfig: () => loadGatewayConfig(),
  start: startGateway,
});
