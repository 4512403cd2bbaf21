// Tenant-scoped transactions: every query of `fn` runs as tracer_app (never the owner, never
// a superuser) with the tenant set for this transaction only, so the row-level security
// policies of the foundation migration show and accept only this tenant's rows.
import type { Pool, PoolClient } from 'pg';

export const APP_ROLE = 'tracer_app';

export interface TenantOptions {
  /**
   * The role to act as; null when the connection already logs in as a member-only role of
   * tracer_app (production), so no SET ROLE is needed.
   */
  role?: string | null;
}

export async function withTenant<T>(
  pool: Pool,
  tenantId: string,
  fn: (client: PoolClient) => Promise<T>,
  options: TenantOptions = {},
): Promise<T> {
  if (typeof tenantId !== 'string' || tenantId === '')
    throw new Error('withTenant: tenantId must be a non-empty string');
  const role = options.role === undefined ? APP_ROLE : options.role;
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // One round trip to open the transaction and drop privileges; the tenant goes as a bind
    // parameter. Both settings end with the transaction, so a pooled connection keeps neither.
    await client.query(role === null ? 'BEGIN' : `BEGIN; SET LOCAL ROLE ${quoteIdent(role)}`);
    await client.query("SELECT set_config('tracer.tenant_id', $1, true)", [tenantId]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr as Error;
    }
    throw err;
  } finally {
    // A connection that could not roll back is in an unknown state: destroy it.
    client.release(broken);
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
