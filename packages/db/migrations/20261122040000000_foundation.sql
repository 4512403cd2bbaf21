-- Up Migration
-- Foundation: the application role, tenancy (row-level security), and the time-series
-- skeleton (processes, process samples) as TimescaleDB hypertables when the extension is
-- available, natively range-partitioned tables otherwise (DESIGN.md section 5).

-- The role the services act as: neither owner nor superuser, so row-level security always
-- applies to it. Roles are cluster-wide: a second database finds it already there. Services
-- log in as a role that is a member of it, or withTenant switches to it per transaction.
DO $$
BEGIN
  CREATE ROLE tracer_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;

-- TimescaleDB when it can be loaded (it must be in shared_preload_libraries), unless the
-- migration runs with tracer.storage = 'native' (tests of the native path).
DO $$
BEGIN
  IF coalesce(current_setting('tracer.storage', true), '') <> 'native'
     AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS timescaledb;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'timescaledb is installed but cannot be loaded (%); using native partitioning', SQLERRM;
    END;
  END IF;
END $$;

-- The tenant of the current transaction, set by withTenant (SET LOCAL semantics). NULL when
-- unset: never set in this session, or reset to '' when the last transaction ended. Policies
-- compare with it, so no tenant means no rows rather than an error.
CREATE FUNCTION tracer_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('tracer.tenant_id', true), '') $$;

-- Row-level security for a tenant-owned table: FORCE makes the owner subject to it too
-- (superusers and BYPASSRLS roles never are), and tracer_app gets its table rights here.
CREATE FUNCTION tracer_protect_tenant_table(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = tracer_tenant()) WITH CHECK (tenant_id = tracer_tenant())', tbl);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO tracer_app', tbl);
END $$;

------------------------------------------------------------------------------------------
-- Tenancy

CREATE TABLE tenants (
  -- Also the first half of the Kafka key `tenant/host`: no slash, no spaces.
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Not FORCEd: the owner creates and lists tenants; the app role sees only its own.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (id = tracer_tenant());
GRANT SELECT ON tenants TO tracer_app;

CREATE TABLE teams (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);
SELECT tracer_protect_tenant_table('teams');

------------------------------------------------------------------------------------------
-- Time series. Each table is written once, as a plain table; tracer_make_time_series then
-- turns it into a hypertable, or into a range-partitioned table with a default partition
-- (so no row is ever refused) and partitions made ahead by tracer_create_partitions.

CREATE TABLE tracer_time_series (
  table_name text PRIMARY KEY,
  time_column text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('timescaledb', 'native')),
  -- Whole days, so native partitions are named by their first day.
  chunk_interval interval NOT NULL CHECK (chunk_interval >= interval '1 day' AND date_part('epoch', chunk_interval)::bigint % 86400 = 0),
  -- How far ahead of now native partitions exist (maintenance keeps it so).
  premake interval NOT NULL,
  retention interval,
  compressed boolean NOT NULL DEFAULT false
);

-- Partition bounds are aligned to this instant (a Monday, 00:00 UTC), so a 7-day chunk is a
-- Monday-to-Monday week whatever the server's time zone.
CREATE FUNCTION tracer_partition_origin() RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT timestamptz '2000-01-03 00:00:00+00' $$;

-- Creates the native partition holding `at`, unless it exists. Rows of that range that
-- landed in the default partition move into it first (attaching would fail otherwise).
CREATE FUNCTION tracer_create_partition(tbl text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  cfg tracer_time_series;
  lo timestamptz;
  hi timestamptz;
  part text;
BEGIN
  SELECT * INTO STRICT cfg FROM tracer_time_series WHERE table_name = tbl AND mode = 'native';
  lo := date_bin(cfg.chunk_interval, at, tracer_partition_origin());
  hi := lo + cfg.chunk_interval;
  part := format('%s_p%s', tbl, to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD'));
  PERFORM pg_advisory_xact_lock(hashtext('tracer_create_partition'), hashtext(tbl));
  IF to_regclass(quote_ident(part)) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', part, tbl);
  EXECUTE format(
    'WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM moved',
    tbl || '_default', cfg.time_column, cfg.time_column, part
  ) USING lo, hi;
  -- ATTACH takes a weaker lock on the parent than CREATE ... PARTITION OF: writers go on.
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', tbl, part, lo, hi);
  RETURN true;
END $$;

CREATE FUNCTION tracer_create_partitions(tbl text, from_ts timestamptz, to_ts timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  cfg tracer_time_series;
  at timestamptz;
  created integer := 0;
BEGIN
  SELECT * INTO STRICT cfg FROM tracer_time_series WHERE table_name = tbl AND mode = 'native';
  at := date_bin(cfg.chunk_interval, from_ts, tracer_partition_origin());
  WHILE at < to_ts LOOP
    IF tracer_create_partition(tbl, at) THEN
      created := created + 1;
    END IF;
    at := at + cfg.chunk_interval;
  END LOOP;
  RETURN created;
END $$;

-- Periodic upkeep of native tables (TimescaleDB runs its own jobs): partitions up to
-- now + premake, and retention (whole partitions dropped, old rows of the default deleted).
-- Run as the owner, e.g. hourly; until it runs, the default partition takes every row.
CREATE FUNCTION tracer_maintain_time_series()
RETURNS TABLE (table_name text, created integer, dropped integer, deleted_from_default bigint)
LANGUAGE plpgsql AS $$
DECLARE
  cfg tracer_time_series;
  part record;
  upper_bound timestamptz;
BEGIN
  FOR cfg IN SELECT * FROM tracer_time_series t WHERE t.mode = 'native' ORDER BY t.table_name LOOP
    table_name := cfg.table_name;
    created := tracer_create_partitions(cfg.table_name, now() - cfg.chunk_interval, now() + cfg.premake);
    dropped := 0;
    deleted_from_default := 0;
    IF cfg.retention IS NOT NULL THEN
      FOR part IN
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = cfg.table_name::regclass
      LOOP
        CONTINUE WHEN part.bound = 'DEFAULT';
        upper_bound := substring(part.bound FROM 'TO \(''([^'']+)''\)')::timestamptz;
        IF upper_bound <= now() - cfg.retention THEN
          EXECUTE format('DROP TABLE %I', part.relname);
          dropped := dropped + 1;
        END IF;
      END LOOP;
      EXECUTE format('DELETE FROM %I WHERE %I < $1', cfg.table_name || '_default', cfg.time_column)
        USING now() - cfg.retention;
      GET DIAGNOSTICS deleted_from_default = ROW_COUNT;
    END IF;
    RETURN NEXT;
  END LOOP;
END $$;

CREATE FUNCTION tracer_make_time_series(
  tbl text, time_column text, chunk_interval interval, premake interval, retention interval
) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  shape text := tbl || '_shape';
  idx record;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    EXECUTE format('SELECT create_hypertable(%L, %L, chunk_time_interval => %L::interval)', tbl, time_column, chunk_interval);
    IF retention IS NOT NULL THEN
      EXECUTE format('SELECT add_retention_policy(%L, %L::interval)', tbl, retention);
    END IF;
    INSERT INTO tracer_time_series VALUES (tbl, time_column, 'timescaledb', chunk_interval, premake, retention);
    RETURN 'timescaledb';
  END IF;
  -- Native: the plain table becomes the shape of a partitioned one. Its indexes are renamed
  -- out of the way first, so the new table's generated names are the usual <table>_pkey...
  EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, shape);
  FOR idx IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = shape::regclass LOOP
    EXECUTE format('ALTER INDEX %I RENAME TO %I', idx.relname, left(idx.relname, 50) || '_shape');
  END LOOP;
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING ALL) PARTITION BY RANGE (%I)', tbl, shape, time_column);
  EXECUTE format('DROP TABLE %I', shape);
  EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
  INSERT INTO tracer_time_series VALUES (tbl, time_column, 'native', chunk_interval, premake, retention);
  PERFORM tracer_create_partitions(tbl, now() - chunk_interval, now() + premake);
  RETURN 'native';
END $$;

-- TimescaleDB refuses compression on tables with row-level security ("cannot enable RLS on
-- hypertables using compression", timescale/timescaledb#6827). Isolation wins: compression is
-- tried, and where refused the table stays uncompressed and tracer_time_series says so.
CREATE FUNCTION tracer_try_compression(tbl text, segment_by text, order_by text, compress_after interval) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM tracer_time_series WHERE table_name = tbl AND mode = 'timescaledb') THEN
    RETURN false;
  END IF;
  BEGIN
    EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_segmentby = %L, timescaledb.compress_orderby = %L)',
      tbl, segment_by, order_by);
    EXECUTE format('SELECT add_compression_policy(%L, %L::interval)', tbl, compress_after);
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'compression of % not enabled: %', tbl, SQLERRM;
    RETURN false;
  END;
  UPDATE tracer_time_series SET compressed = true WHERE table_name = tbl;
  RETURN true;
END $$;

-- One row per process. The key is the process identity plus the partition column (every
-- unique key of a partitioned table or hypertable must hold it): exec and exit of one
-- process upsert the same row, and a replayed event rewrites the same values.
-- upid already encodes boot and start time; start_ts is the wall-clock start the agent
-- reports for it, the same on every event of the process.
CREATE TABLE processes (
  tenant_id text NOT NULL,
  host text NOT NULL,
  upid text NOT NULL,
  start_ts timestamptz NOT NULL,
  end_ts timestamptz,
  pid integer NOT NULL,
  ppid integer,
  parent_upid text,
  uid integer,
  exe text,
  argv text[],
  argv_truncated boolean,
  cwd text,
  comm text,
  cgroup_id text,
  container_id text,
  -- Allowlisted environment variables only (AWS_BATCH_JOB_ID, NXF_TASK_WORKDIR, ...).
  env jsonb,
  exit_code smallint,
  exit_code_unknown boolean,
  signal smallint,
  core_dumped boolean,
  duration_ns bigint,
  cpu_user_ns bigint,
  cpu_sys_ns bigint,
  peak_rss_bytes bigint,
  read_bytes bigint,
  write_bytes bigint,
  storage_read_bytes bigint,
  storage_write_bytes bigint,
  io_wait_ns bigint,
  net_send_bytes bigint,
  net_recv_bytes bigint,
  -- True when the row comes from /proc sampling: times and peaks are approximate.
  sampled boolean NOT NULL DEFAULT false,
  -- Which agent wrote the row, and the sequence numbers of its exec and exit events.
  agent_id text NOT NULL,
  exec_seq bigint,
  exit_seq bigint,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, host, upid, start_ts)
);
SELECT tracer_make_time_series('processes', 'start_ts', interval '7 days', interval '28 days', interval '400 days');
SELECT tracer_protect_tenant_table('processes');
CREATE INDEX ON processes (tenant_id, start_ts DESC);
CREATE INDEX ON processes (tenant_id, host, parent_upid);
SELECT tracer_try_compression('processes', 'tenant_id, host', 'start_ts DESC, upid', interval '7 days');

-- A process's resource use over time. Natural key: one sample per process and instant, so a
-- replayed batch inserts nothing new (ON CONFLICT DO NOTHING).
CREATE TABLE process_samples (
  tenant_id text NOT NULL,
  host text NOT NULL,
  upid text NOT NULL,
  ts timestamptz NOT NULL,
  -- Cumulative CPU time (user + system) so far.
  cpu_ns bigint NOT NULL,
  rss_bytes bigint NOT NULL,
  read_bytes bigint NOT NULL,
  write_bytes bigint NOT NULL,
  io_wait_ns bigint,
  net_send_bytes bigint,
  net_recv_bytes bigint,
  -- /proc state letter: R running, S sleeping, D uninterruptible (I/O), Z zombie, T stopped.
  state text CHECK (length(state) = 1),
  threads integer,
  sampled boolean NOT NULL DEFAULT false,
  agent_id text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (tenant_id, host, upid, ts)
);
SELECT tracer_make_time_series('process_samples', 'ts', interval '1 day', interval '7 days', interval '35 days');
SELECT tracer_protect_tenant_table('process_samples');
CREATE INDEX ON process_samples (tenant_id, ts DESC);
SELECT tracer_try_compression('process_samples', 'tenant_id, host', 'upid, ts DESC', interval '2 days');
