// The attribution service for callers that run it in-process (tests, a combined runner); the
// process entry point is main.ts. Kept apart from the package root, which `tracer run` and
// `tracer trace tree` load without Kafka or PostgreSQL clients.
export {
  type AttributionConfig,
  ConfigError,
  DEFAULT_ATTRIBUTION_PORT,
  loadAttributionConfig,
} from './config.ts';
export { type RunningAttribution, startAttribution } from './server.ts';
