// PostgreSQL side of the service: insights rows (one per problem, upserted by id), the step
// history of earlier runs for slow_step (the attribution tables), and the LLM's answer.
// Every function runs inside the caller's withTenant transaction.
import { type PoolClient, postgresJson } from '@tracer/db';
import type { Insight } from '@tracer/events';
import type { RootCause } from '../core/classify.ts';
import { historyKey } from '../core/detectors/slow-step.ts';

const tsOf = (ns: number | undefined) => (ns === undefined ? null : new Date(Math.floor(ns / 1e6)).toISOString());

/** Upserts the latest version of each insight; the LLM's explanation of a row is kept. */
export async function upsertInsights(client: PoolClient, host: string, insights: readonly Insight[]): Promise<void> {
  if (insights.length === 0) return;
  const rows = insights.map((i) => ({
    id: i.id,
    host,
    kind: i.kind,
    severity: i.severity,
    state: i.state,
    run_id: i.runId ?? null,
    step_id: i.stepId ?? null,
    task_id: i.taskId ?? null,
    pid: i.pid ?? null,
    upid: i.upid ?? null,
    tool: i.tool ?? null,
    category: i.category ?? null,
    start_ts: tsOf(i.startTs),
    end_ts: tsOf(i.endTs),
    summary: i.summary,
    record: i,
  }));
  await client.query(
    `INSERT INTO insights (tenant_id, id, host, kind, severity, state, run_id, step_id, task_id, pid, upid, tool,
                           category, start_ts, end_ts, summary, record)
     SELECT tracer_tenant(), r.id, r.host, r.kind, r.severity, r.state, r.run_id, r.step_id, r.task_id, r.pid, r.upid,
            r.tool, r.category, r.start_ts, r.end_ts, r.summary, r.record
     FROM jsonb_to_recordset($1::jsonb) AS r(id text, host text, kind text, severity text, state text, run_id text,
          step_id text, task_id text, pid integer, upid text, tool text, category text, start_ts timestamptz,
          end_ts timestamptz, summary text, record jsonb)
     ON CONFLICT (tenant_id, host, id) DO UPDATE SET
       kind = EXCLUDED.kind, severity = EXCLUDED.severity, state = EXCLUDED.state,
       run_id = EXCLUDED.run_id, step_id = EXCLUDED.step_id, task_id = EXCLUDED.task_id, pid = EXCLUDED.pid,
       upid = EXCLUDED.upid, tool = EXCLUDED.tool, category = EXCLUDED.category, start_ts = EXCLUDED.start_ts,
       end_ts = EXCLUDED.end_ts, summary = EXCLUDED.summary, record = EXCLUDED.record, updated_at = now()`,
    [postgresJson(rows)],
  );
}

/** Durations kept per step: the most recent runs are the baseline. */
const HISTORY_RUNS = 50;

/**
 * Wall times of the steps that succeeded in finished runs of these pipelines, newest first,
 * keyed as slow_step looks them up (`historyKey(pipeline, step)`).
 */
export async function readStepHistory(
  client: PoolClient,
  pipelines: readonly string[],
): Promise<Map<string, Record<string, number[]>>> {
  const out = new Map<string, Record<string, number[]>>(pipelines.map((p) => [p, {}]));
  if (pipelines.length === 0) return out;
  const { rows } = await client.query<{ pipeline: string; name: string; durations: string[] }>(
    `SELECT pipeline, name, array_agg(wall_ns ORDER BY end_ts DESC) AS durations
     FROM (
       SELECT r.pipeline, s.name, s.end_ts,
              COALESCE(s.wall_ns, (extract(epoch FROM s.end_ts - s.start_ts) * 1e9)::bigint) AS wall_ns,
              row_number() OVER (PARTITION BY r.pipeline, s.name ORDER BY s.end_ts DESC) AS n
       FROM steps s JOIN runs r ON r.tenant_id = s.tenant_id AND r.id = s.run_id
       WHERE r.pipeline = ANY ($1) AND r.status <> 'running' AND s.status = 'succeeded' AND s.end_ts IS NOT NULL
     ) h
     WHERE n <= $2
     GROUP BY pipeline, name`,
    [pipelines, HISTORY_RUNS],
  );
  for (const r of rows) out.get(r.pipeline)![historyKey(r.pipeline, r.name)] = r.durations.map(Number);
  return out;
}

/** The LLM's answer for an insight, if its evidence is still the one explained. */
export async function saveExplanation(client: PoolClient, host: string, id: string, rc: RootCause): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE insights SET explanation = $3::jsonb, updated_at = now()
     WHERE tenant_id = tracer_tenant() AND host = $1 AND id = $2 AND record->'evidence'->>'evidenceHash' = $4`,
    [host, id, postgresJson(rc), rc.evidenceHash],
  );
  return rowCount === 1;
}
