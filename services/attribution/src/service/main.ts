// The attribution service process: config first (a bad variable or tool rules file stops it,
// named), then the service; SIGTERM/SIGINT stop consuming (the in-flight batch commits), then
// close the HTTP endpoint and the pool.
import { createLogger } from '@tracer/log';
import { runService } from '@tracer/service';
import { ToolRulesError } from '../core/index.ts';
import { loadAttributionConfig } from './config.ts';
import { startAttribution } from './server.ts';

await runService({
  name: 'tracer-attribution',
  log: createLogger('attribution'),
  loadConfig: () => loadAttributionConfig(),
  start: startAttribution,
  startProblem: (err) => (err instanceof ToolRulesError ? `TRACER_ATTRIBUTION_TOOL_RULES: ${err.message}` : undefined),
});
