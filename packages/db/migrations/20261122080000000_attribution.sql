-- Up Migration
-- Attribution (issue 5): runs, steps, tasks and tool executions as services/attribution makes
-- them of the process tree (packages/events/src/attribution.ts). Each row is the latest state
-- of one record (live status: running, succeeded, failed, killed), upserted by its id; the
-- whole record is kept as `record`, the columns below are what is queried. Timestamps are the
-- records' ns since the epoch, to the microsecond.

CREATE TABLE runs (
  tenant_id text NOT NULL,
  id text NOT NULL,
  host text NOT NULL,
  pipeline text NOT NULL,
  name text NOT NULL,
  engine text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'killed')),
  start_ts timestamptz NOT NULL,
  end_ts timestamptz,
  exit_code integer,
  wall_ns bigint NOT NULL,
  cpu_ns bigint NOT NULL,
  peak_rss_bytes bigint NOT NULL,
  record jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
SELECT tracer_protect_tenant_table('runs');
CREATE INDEX ON runs (tenant_id, pipeline, start_ts DESC);
CREATE INDEX ON runs (tenant_id, host, start_ts DESC);

CREATE TABLE steps (
  tenant_id text NOT NULL,
  id text NOT NULL,
  host text NOT NULL,
  run_id text NOT NULL,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'killed')),
  start_ts timestamptz NOT NULL,
  end_ts timestamptz,
  task_count integer NOT NULL,
  failed_task_count integer NOT NULL,
  wall_ns bigint NOT NULL,
  cpu_ns bigint NOT NULL,
  peak_rss_bytes bigint NOT NULL,
  record jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
SELECT tracer_protect_tenant_table('steps');
CREATE INDEX ON steps (tenant_id, run_id);
-- Step history across runs (slow-step baselines): by name, newest first.
CREATE INDEX ON steps (tenant_id, name, start_ts DESC);

CREATE TABLE tasks (
  tenant_id text NOT NULL,
  id text NOT NULL,
  host text NOT NULL,
  run_id text NOT NULL,
  step_id text NOT NULL,
  step text NOT NULL,
  name text NOT NULL,
  engine_task_id text,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'killed')),
  start_ts timestamptz NOT NULL,
  end_ts timestamptz,
  exit_code integer,
  signal integer,
  oom_killed boolean NOT NULL,
  root_upid text,
  wall_ns bigint NOT NULL,
  cpu_ns bigint NOT NULL,
  peak_rss_bytes bigint NOT NULL,
  record jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
SELECT tracer_protect_tenant_table('tasks');
CREATE INDEX ON tasks (tenant_id, run_id);
CREATE INDEX ON tasks (tenant_id, step_id);
CREATE INDEX ON tasks (tenant_id, status) WHERE status <> 'succeeded';

CREATE TABLE tool_executions (
  tenant_id text NOT NULL,
  id text NOT NULL,
  host text NOT NULL,
  run_id text NOT NULL,
  task_id text,
  tool text NOT NULL,
  subcommand text,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'killed')),
  start_ts timestamptz NOT NULL,
  end_ts timestamptz,
  exit_code integer,
  wall_ns bigint NOT NULL,
  cpu_ns bigint NOT NULL,
  peak_rss_bytes bigint NOT NULL,
  record jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
SELECT tracer_protect_tenant_table('tool_executions');
CREATE INDEX ON tool_executions (tenant_id, run_id);
CREATE INDEX ON tool_executions (tenant_id, task_id);
CREATE INDEX ON tool_executions (tenant_id, tool, start_ts DESC);
