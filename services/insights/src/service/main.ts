// The insights service process: config first (a bad variable stops it, named), then the
// service; SIGTERM/SIGINT stop consuming (the in-flight batch commits), then close the rest.
import { createLogger } from '@tracer/log';
import { runService } from '@tracer/service';
import { loadServiceConfig } from './config.ts';
import { startInsights } from './server.ts';

await runService({
  name: 'tracer-insights',
  log: createLogger('insights'),
  loadConfig: () => loadServiceConfig(),
  start: startInsights,
});
