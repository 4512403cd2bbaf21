// Upkeep of the native time-series tables (TimescaleDB schedules its own jobs). The SQL
// functions live in the foundation migration; these are their typed entry points.
import type { Pool } from 'pg';

export type StorageMode = 'timescaledb' | 'native';

export interface TimeSeriesTable {
  table: string;
  timeColumn: string;
  mode: StorageMode;
  chunkInterval: string;
  retention: string | null;
  compressed: boolean;
}

export async function timeSeriesTables(pool: Pool): Promise<TimeSeriesTable[]> {
  const { rows } = await pool.query<{
    table_name: string;
    time_column: string;
    mode: StorageMode;
    chunk_interval: string;
    retention: string | null;
    compressed: boolean;
  }>(
    `SELECT table_name, time_column, mode, chunk_interval::text, retention::text, compressed
     FROM tracer_time_series ORDER BY table_name`,
  );
  return rows.map((r) => ({
    table: r.table_name,
    timeColumn: r.time_column,
    mode: r.mode,
    chunkInterval: r.chunk_interval,
    retention: r.retention,
    compressed: r.compressed,
  }));
}

export interface MaintenanceResult {
  table: string;
  created: number;
  dropped: number;
  deletedFromDefault: number;
}

/** Makes partitions ahead and applies retention; run it as the owner, e.g. hourly. */
export async function maintainTimeSeries(pool: Pool): Promise<MaintenanceResult[]> {
  const { rows } = await pool.query<{
    table_name: string;
    created: number;
    dropped: number;
    deleted_from_default: string;
  }>('SELECT * FROM tracer_maintain_time_series()');
  return rows.map((r) => ({
    table: r.table_name,
    created: r.created,
    dropped: r.dropped,
    deletedFromDefault: Number(r.deleted_from_default),
  }));
}

/** Native partitions covering [from, to) for one table; returns how many were new. */
export async function createPartitions(pool: Pool, table: string, from: Date, to: Date): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT tracer_create_partitions($1, $2, $3) AS n', [
    table,
    from,
    to,
  ]);
  return rows[0]!.n;
}
