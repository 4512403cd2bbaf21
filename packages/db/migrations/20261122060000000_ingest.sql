-- Up Migration
-- Ingest (issue 4): per-team API keys, the per-agent sequence watermark that makes replays
-- no-ops, and the raw telemetry tables the raw consumer writes besides processes and
-- process samples: host boots, host info, host samples, logs, file opens, OOM kills.

------------------------------------------------------------------------------------------
-- API keys. A key is `trk_<id>_<secret>`: the id is public (listing, revoking, lookup), the
-- secret is stored only as its SHA-256 (a random 256-bit secret needs no slow hash). A key
-- belongs to one team of one tenant.

CREATE TABLE api_keys (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{12}$'),
  tenant_id text NOT NULL,
  team_id uuid NOT NULL,
  name text,
  scopes text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'read', 'admin']),
  secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  -- Written in bulk every few seconds by the gateways, never once per request.
  last_used_at timestamptz,
  FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ON api_keys (tenant_id, team_id);
-- Not FORCEd (like tenants): the owner resolves a key before any tenant is known, through
-- the two functions below; the app role sees only its tenant's keys.
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys USING (tenant_id = tracer_tenant()) WITH CHECK (tenant_id = tracer_tenant());
GRANT SELECT, INSERT, UPDATE ON api_keys TO tracer_app;

-- The key's owner and rights, for a gateway that does not know the tenant yet. Runs as the
-- owner, returns one key by id and nothing else.
CREATE FUNCTION tracer_api_key(key_id text)
RETURNS TABLE (tenant_id text, team_id uuid, scopes text[], secret_sha256 bytea, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT k.tenant_id, k.team_id, k.scopes, k.secret_sha256, k.revoked_at FROM api_keys k WHERE k.id = key_id $$;

-- Last use of many keys in one statement; only moves forward.
CREATE FUNCTION tracer_touch_api_keys(key_ids text[], used_at timestamptz) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
  UPDATE api_keys SET last_used_at = used_at
  WHERE id = ANY (key_ids) AND (last_used_at IS NULL OR last_used_at < used_at)
$$;

REVOKE ALL ON FUNCTION tracer_api_key(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tracer_touch_api_keys(text[], timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tracer_api_key(text) TO tracer_app;
GRANT EXECUTE ON FUNCTION tracer_touch_api_keys(text[], timestamptz) TO tracer_app;

------------------------------------------------------------------------------------------
-- Agents as ingest sees them. max_seq is the dedupe watermark: an agent numbers its events
-- 0, 1, 2... and ships them in order (spool replay included), so an event at or below the
-- watermark was written before and its replay is skipped. The watermark moves in the same
-- transaction as the rows, so a crash before the offset commit replays into no-ops.

CREATE TABLE ingest_agents (
  tenant_id text NOT NULL,
  host text NOT NULL,
  agent_id text NOT NULL,
  -- The team of the API key the agent last sent with (NULL for agents writing to Kafka).
  team_id uuid,
  max_seq bigint NOT NULL,
  events_written bigint NOT NULL DEFAULT 0,
  duplicates_skipped bigint NOT NULL DEFAULT 0,
  -- Sequence numbers never seen below the watermark: events lost between agent and here.
  seq_gap_events bigint NOT NULL DEFAULT 0,
  -- The agent's own report (agent.stats): what it could not keep.
  mode text,
  dropped_kernel bigint,
  dropped_user bigint,
  spooled bigint,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, host, agent_id)
);
SELECT tracer_protect_tenant_table('ingest_agents');

-- Wall-clock time of each host boot, so every event of a process (exec, exit, samples) maps
-- its upid (`<boot>-<pid>-<start ns since boot>`) to the same processes.start_ts. The first
-- estimate written wins and never changes, which keeps the key of a process stable.
CREATE TABLE host_boots (
  tenant_id text NOT NULL,
  host text NOT NULL,
  boot_prefix text NOT NULL CHECK (boot_prefix ~ '^[0-9a-f]{8}$'),
  boot_wall_ns bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, host, boot_prefix)
);
SELECT tracer_protect_tenant_table('host_boots');

------------------------------------------------------------------------------------------
-- Raw telemetry besides processes and process samples (foundation migration). Event tables
-- are keyed by the agent sequence (plus the partition column), so a replay that got past
-- the watermark still inserts nothing (ON CONFLICT DO NOTHING).

-- One row per host boot; the latest host.info of that boot wins.
CREATE TABLE host_info (
  tenant_id text NOT NULL,
  host text NOT NULL,
  boot_id text NOT NULL,
  hostname text NOT NULL,
  kernel text,
  cpus integer,
  memory_bytes bigint,
  cloud text,
  instance_id text,
  instance_type text,
  region text,
  first_ts timestamptz NOT NULL,
  last_ts timestamptz NOT NULL,
  agent_id text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (tenant_id, host, boot_id)
);
SELECT tracer_protect_tenant_table('host_info');
CREATE INDEX ON host_info (tenant_id, instance_id) WHERE instance_id IS NOT NULL;

CREATE TABLE host_samples (
  tenant_id text NOT NULL,
  host text NOT NULL,
  ts timestamptz NOT NULL,
  cpu_busy_ratio real NOT NULL,
  load1 real NOT NULL,
  memory_used_bytes bigint NOT NULL,
  memory_available_bytes bigint NOT NULL,
  disk_used_bytes bigint,
  disk_total_bytes bigint,
  net_recv_bytes bigint,
  net_send_bytes bigint,
  -- PSI avg10 percentages: {"cpu": {"some10": ..}, "memory": {..}, "io": {..}}.
  pressure jsonb,
  agent_id text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (tenant_id, host, ts)
);
SELECT tracer_make_time_series('host_samples', 'ts', interval '1 day', interval '7 days', interval '35 days');
SELECT tracer_protect_tenant_table('host_samples');
SELECT tracer_try_compression('host_samples', 'tenant_id, host', 'ts DESC', interval '2 days');

-- Captured stdout/stderr, redacted and bounded by the agent.
CREATE TABLE process_logs (
  tenant_id text NOT NULL,
  host text NOT NULL,
  agent_id text NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  upid text NOT NULL,
  pid integer NOT NULL,
  stream text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  text text NOT NULL,
  dropped_bytes bigint,
  sampled boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, host, agent_id, seq, ts)
);
SELECT tracer_make_time_series('process_logs', 'ts', interval '1 day', interval '7 days', interval '35 days');
SELECT tracer_protect_tenant_table('process_logs');
CREATE INDEX ON process_logs (tenant_id, host, upid, ts);
SELECT tracer_try_compression('process_logs', 'tenant_id, host', 'ts DESC, seq', interval '2 days');

CREATE TABLE file_opens (
  tenant_id text NOT NULL,
  host text NOT NULL,
  agent_id text NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  upid text NOT NULL,
  pid integer NOT NULL,
  path text NOT NULL,
  flags integer NOT NULL,
  -- errno name when the open failed (ENOENT, EACCES, ...).
  error text,
  sampled boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, host, agent_id, seq, ts)
);
SELECT tracer_make_time_series('file_opens', 'ts', interval '1 day', interval '7 days', interval '35 days');
SELECT tracer_protect_tenant_table('file_opens');
CREATE INDEX ON file_opens (tenant_id, host, upid, ts);
SELECT tracer_try_compression('file_opens', 'tenant_id, host', 'ts DESC, seq', interval '2 days');

-- OOM kills name the victim (never the task that triggered the kill).
CREATE TABLE oom_kills (
  tenant_id text NOT NULL,
  host text NOT NULL,
  agent_id text NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  victim_pid integer NOT NULL,
  victim_upid text,
  victim_comm text,
  trigger_pid integer,
  oom_constraint text NOT NULL CHECK (oom_constraint IN ('memcg', 'global', 'cpuset', 'mempolicy')),
  cgroup_id text,
  memory_limit_bytes bigint,
  memory_usage_bytes bigint,
  victim_rss_bytes bigint,
  PRIMARY KEY (tenant_id, host, agent_id, seq, ts)
);
SELECT tracer_make_time_series('oom_kills', 'ts', interval '7 days', interval '28 days', interval '400 days');
SELECT tracer_protect_tenant_table('oom_kills');
CREATE INDEX ON oom_kills (tenant_id, host, victim_upid);
