-- Up Migration
-- Insights (issue 6): what services/insights concluded about a process, task or host. One
-- problem is one row (`id` is the insight id the engine keeps for the problem's whole life),
-- upserted as it evolves, in the same transaction as the consumer's state snapshot. Ids are
-- unique per host (the engine sees one host: `host#idle_host@<ts>`, a retry's command hash),
-- so the host is part of the key. `record` is the Insight as published on insights.v1; the
-- typed columns are what gets queried.

CREATE TABLE insights (
  tenant_id text NOT NULL,
  id text NOT NULL,
  host text NOT NULL,
  kind text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
  state text NOT NULL CHECK (state IN ('open', 'resolved')),
  run_id text,
  step_id text,
  task_id text,
  pid integer,
  upid text,
  tool text,
  category text,
  start_ts timestamptz NOT NULL,
  end_ts timestamptz,
  summary text NOT NULL,
  record jsonb NOT NULL,
  -- The LLM's answer for this evidence (model, prompt version, causes, next steps), when one
  -- is configured; written after the deterministic record, never in its way.
  explanation jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, host, id)
);
SELECT tracer_protect_tenant_table('insights');

CREATE INDEX insights_task ON insights (tenant_id, task_id) WHERE task_id IS NOT NULL;
CREATE INDEX insights_run ON insights (tenant_id, run_id) WHERE run_id IS NOT NULL;
CREATE INDEX insights_host_start ON insights (tenant_id, host, start_ts DESC);
CREATE INDEX insights_open ON insights (tenant_id, kind) WHERE state = 'open';
