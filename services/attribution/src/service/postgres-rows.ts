// Writes a row plan in the caller's tenant transaction: one statement per table, the rows
// passed as one jsonb array (jsonb_to_recordset), upserted on (tenant_id, id) so a record's
// row always holds its latest state. tenant_id comes from the transaction (withTenant).
import { type PoolClient, postgresJson } from '@tracer/db';
import { type Entity, type RowPlan, tables } from './rows.ts';

const upsertSql = new Map<Entity, string>(
  Object.entries(tables).map(([entity, { table, columns }]) => {
    const names = Object.keys(columns);
    const typed = Object.entries(columns).map(([c, t]) => `${c} ${t}`);
    const sql = `INSERT INTO ${table} (tenant_id, ${names.join(', ')}, record, updated_at)
      SELECT tracer_tenant(), ${names.map((c) => `r.${c}`).join(', ')}, r.record, now()
      FROM jsonb_to_recordset($1::jsonb) AS r(${typed.join(', ')}, record jsonb)
      ON CONFLICT (tenant_id, id) DO UPDATE SET
        ${names
          .filter((c) => c !== 'id')
          .map((c) => `${c} = EXCLUDED.${c}`)
          .join(', ')}, record = EXCLUDED.record, updated_at = now()`;
    return [entity as Entity, sql];
  }),
);

/** Rows written per table. */
export async function writeRows(client: PoolClient, plan: RowPlan): Promise<Record<string, number>> {
  const written: Record<string, number> = {};
  for (const [entity, rows] of plan.upserts) {
    const result = await client.query(upsertSql.get(entity)!, [postgresJson(rows)]);
    written[tables[entity].table] = result.rowCount ?? rows.length;
  }
  for (const [entity, ids] of plan.deletes) {
    const { table } = tables[entity];
    await client.query(`DELETE FROM ${table} WHERE tenant_id = tracer_tenant() AND id = ANY ($1::text[])`, [ids]);
  }
  return written;
}
