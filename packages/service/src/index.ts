export { busAndDatabase, ConfigError, type Env, type EnvReader, envReader } from './config.ts';
export { type ConsumerService, type ConsumerServiceOptions, serveConsumer } from './consumer-service.ts';
export {
  consumerReadiness,
  type HealthServer,
  type HealthServerOptions,
  type Readiness,
  startHealthServer,
} from './health-server.ts';
export { BATCH_SECONDS_BUCKETS, createRegistry, metricsIn } from './metrics.ts';
export { runService, type ServiceMain } from './run.ts';
export { connectStores, type StoreSettings } from './stores.ts';
