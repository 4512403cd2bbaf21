-- Up Migration
-- The raw consumer loads the append-only event tables (process samples, host samples, logs,
-- file opens, OOM kills) with COPY, about a fifth less PostgreSQL CPU per event than an
-- INSERT ... SELECT. COPY refuses tables whose row-level security applies to the current
-- role, so it runs as tracer_ingest_writer, which bypasses row-level security but can do one
-- thing only: insert into those tables every column except tenant_id. tenant_id then takes its
-- default, tracer_tenant(), the tenant of the transaction: the database still stamps every
-- row with the tenant the consumer opened the transaction for, and refuses the row (NOT NULL)
-- when none is set. The role cannot read, update or delete anything.
-- The consumer switches to it with SET LOCAL ROLE, so its login role (or the session user)
-- must be a member: `GRANT tracer_ingest_writer TO <consumer login>` on a real deployment.
-- Without it, set TRACER_INGEST_WRITER_ROLE=none and the consumer inserts through tracer_app.

DO $$
BEGIN
  CREATE ROLE tracer_ingest_writer NOLOGIN BYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;

DO $$
DECLARE
  tbl text;
  cols text;
BEGIN
  FOREACH tbl IN ARRAY ARRAY['process_samples', 'host_samples', 'process_logs', 'file_opens', 'oom_kills'] LOOP
    EXECUTE format('ALTER TABLE %I ALTER COLUMN tenant_id SET DEFAULT tracer_tenant()', tbl);
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute
    WHERE attrelid = tbl::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'tenant_id';
    EXECUTE format('GRANT INSERT (%s) ON %I TO tracer_ingest_writer', cols, tbl);
  END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION tracer_tenant() TO tracer_ingest_writer;
