// tasks.v1 changes as rows of runs, steps, tasks and tool_executions (the attribution
// migration): the typed columns that are queried, plus the whole record. Pure.
import type { AttributionChange, Resources } from '@tracer/events';

export type Entity = AttributionChange['entity'];

/** A column of a table and its SQL type, as jsonb_to_recordset reads it. */
export type Columns = Record<string, string>;

const resourceColumns: Columns = { wall_ns: 'bigint', cpu_ns: 'bigint', peak_rss_bytes: 'bigint' };
const timeColumns: Columns = { start_ts: 'timestamptz', end_ts: 'timestamptz' };

export const tables: Record<Entity, { table: string; columns: Columns }> = {
  run: {
    table: 'runs',
    columns: {
      id: 'text',
      host: 'text',
      pipeline: 'text',
      name: 'text',
      engine: 'text',
      status: 'text',
      ...timeColumns,
      exit_code: 'integer',
      ...resourceColumns,
    },
  },
  step: {
    table: 'steps',
    columns: {
      id: 'text',
      host: 'text',
      run_id: 'text',
      name: 'text',
      status: 'text',
      ...timeColumns,
      task_count: 'integer',
      failed_task_count: 'integer',
      ...resourceColumns,
    },
  },
  task: {
    table: 'tasks',
    columns: {
      id: 'text',
      host: 'text',
      run_id: 'text',
      step_id: 'text',
      step: 'text',
      name: 'text',
      engine_task_id: 'text',
      status: 'text',
      ...timeColumns,
      exit_code: 'integer',
      signal: 'integer',
      oom_killed: 'boolean',
      root_upid: 'text',
      ...resourceColumns,
    },
  },
  tool: {
    table: 'tool_executions',
    columns: {
      id: 'text',
      host: 'text',
      run_id: 'text',
      task_id: 'text',
      tool: 'text',
      subcommand: 'text',
      name: 'text',
      status: 'text',
      ...timeColumns,
      exit_code: 'integer',
      ...resourceColumns,
    },
  },
};

/** ns since the epoch as an ISO timestamp to the microsecond (PostgreSQL's precision). */
export function isoMicros(ns: number): string {
  const micros = Math.round(ns / 1000);
  const ms = Math.floor(micros / 1000);
  return new Date(ms).toISOString().replace('Z', `${String(micros - ms * 1000).padStart(3, '0')}Z`);
}

const figures = (r: Resources) => ({ wall_ns: r.wallNs, cpu_ns: r.cpuNs, peak_rss_bytes: r.peakRssBytes });
const times = (r: { startTs: number; endTs: number | null }) => ({
  start_ts: isoMicros(r.startTs),
  end_ts: r.endTs === null ? null : isoMicros(r.endTs),
});

export function rowOf(change: AttributionChange): Record<string, unknown> {
  const base = { id: change.record.id, host: change.record.host, record: change.record };
  switch (change.entity) {
    case 'run': {
      const r = change.record;
      return {
        ...base,
        pipeline: r.pipeline,
        name: r.name,
        engine: r.engine,
        status: r.status,
        ...times(r),
        exit_code: r.exitCode,
        ...figures(r.resources),
      };
    }
    case 'step': {
      const r = change.record;
      return {
        ...base,
        run_id: r.runId,
        name: r.name,
        status: r.status,
        ...times(r),
        task_count: r.taskCount,
        failed_task_count: r.failedTaskCount,
        ...figures(r.resources),
      };
    }
    case 'task': {
      const r = change.record;
      return {
        ...base,
        run_id: r.runId,
        step_id: r.stepId,
        step: r.step,
        name: r.name,
        engine_task_id: r.engineTaskId,
        status: r.status,
        ...times(r),
        exit_code: r.exitCode,
        signal: r.signal,
        oom_killed: r.oomKilled,
        root_upid: r.rootUpid,
        ...figures(r.resources),
      };
    }
    case 'tool': {
      const r = change.record;
      return {
        ...base,
        run_id: r.runId,
        task_id: r.taskId,
        tool: r.tool,
        subcommand: r.subcommand,
        name: r.name,
        status: r.status,
        ...times(r),
        exit_code: r.exitCode,
        ...figures(r.resources),
      };
    }
  }
}

export interface RowPlan {
  upserts: Map<Entity, Record<string, unknown>[]>;
  deletes: Map<Entity, string[]>;
}

/** The last change of each record wins: one upsert or delete per row. */
export function planRows(changes: readonly AttributionChange[]): RowPlan {
  const last = new Map<string, AttributionChange>();
  for (const c of changes) {
    const key = `${c.entity}\u0000${c.record.id}`;
    last.delete(key);
    last.set(key, c);
  }
  const plan: RowPlan = { upserts: new Map(), deletes: new Map() };
  for (const c of last.values()) {
    if (c.op === 'delete') {
      plan.deletes.set(c.entity, [...(plan.deletes.get(c.entity) ?? []), c.record.id]);
    } else {
      const list = plan.upserts.get(c.entity) ?? [];
      list.push(rowOf(c));
      plan.upserts.set(c.entity, list);
    }
  }
  return plan;
}
