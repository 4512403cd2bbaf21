export { createPool, type Pool, type PoolClient, type PoolOptions } from './pool.ts';
export { APP_ROLE, withTenant, quoteIdent, type TenantOptions } from './tenant.ts';
export { migrate, migrationsDir, MIGRATIONS_TABLE, type MigrateOptions } from './migrate.ts';
export {
  createPartitions,
  maintainTimeSeries,
  timeSeriesTables,
  type MaintenanceResult,
  type StorageMode,
  type TimeSeriesTable,
} from './time-series.ts';
