// Snapshots of stateful consumers (attribution, insights): the pure core's state for one
// tenant and host, saved in the same transaction as the rows it produced. With offsets
// committed only after that transaction, a restart resumes from the last commit, and events
// redelivered after it are recognised by the sequence watermark the state itself keeps.
import { deserialize, serialize } from 'node:v8';
import type { PoolClient } from 'pg';

export interface ConsumerStateSnapshot {
  /** Moves by one per save: a cached copy with another version is stale. */
  version: number;
  state: Buffer;
}

/**
 * Serialises the transactions of two instances on one (tenant, service, host) until COMMIT:
 * a row lock alone holds nothing while no snapshot exists yet, and both would write version 1.
 */
async function lockConsumerState(client: PoolClient, service: string, host: string): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtextextended(tracer_tenant() || '/' || $1 || '/' || $2, 0))", [
    service,
    host,
  ]);
}

/**
 * The snapshot of (tenant, service, host), locked until the transaction ends so two
 * instances (a rebalance in flight) take turns. Call inside withTenant.
 */
export async function loadConsumerState(
  client: PoolClient,
  service: string,
  host: string,
): Promise<ConsumerStateSnapshot | undefined> {
  await lockConsumerState(client, service, host);
  const { rows } = await client.query<{ version: string; state: Buffer }>(
    `SELECT version, state FROM consumer_state
     WHERE tenant_id = tracer_tenant() AND service = $1 AND host = $2 FOR UPDATE`,
    [service, host],
  );
  const row = rows[0];
  return row && { version: Number(row.version), state: row.state };
}

/** The version stored now, locked like loadConsumerState but without reading the state. */
export async function consumerStateVersion(client: PoolClient, service: string, host: string): Promise<number> {
  await lockConsumerState(client, service, host);
  const { rows } = await client.query<{ version: string }>(
    `SELECT version FROM consumer_state
     WHERE tenant_id = tracer_tenant() AND service = $1 AND host = $2 FOR UPDATE`,
    [service, host],
  );
  return rows[0] ? Number(rows[0].version) : 0;
}

/** Writes `version` (the loaded one plus one) for (tenant, service, host). Call inside withTenant. */
export async function saveConsumerState(
  client: PoolClient,
  service: string,
  host: string,
  version: number,
  state: Buffer,
): Promise<void> {
  await client.query(
    `INSERT INTO consumer_state (tenant_id, service, host, version, state)
     VALUES (tracer_tenant(), $1, $2, $3, $4)
     ON CONFLICT (tenant_id, service, host)
     DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state, updated_at = now()`,
    [service, host, version, state],
  );
}

/**
 * Structured-clone bytes (node:v8): Maps, Sets, typed arrays and plain objects survive;
 * class instances come back as plain objects and functions are refused, so cores keep their
 * state as plain data.
 */
export const serializeState = (value: unknown): Buffer => serialize(value);
export const deserializeState = (bytes: Buffer): unknown => deserialize(bytes);
