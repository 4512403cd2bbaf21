export {
  type ConsumerStateSnapshot,
  consumerStateVersion,
  deserializeState,
  loadConsumerState,
  saveConsumerState,
  serializeState,
} from './consumer-state.ts';
export { postgresJson } from './json.ts';
export { MIGRATIONS_TABLE, type MigrateOptions, migrate, migrationsDir } from './migrate.ts';
export { createPool, type Pool, type PoolClient, type PoolOptions } from './pool.ts';
export { APP_ROLE, quoteIdent, type TenantOptions, withTenant } from './tenant.ts';
export {
  createPartitions,
  type MaintenanceResult,
  maintainTimeSeries,
  type StorageMode,
  type TimeSeriesTable,
  timeSeriesTables,
} from './time-series.ts';
