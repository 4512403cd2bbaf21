-- Up Migration
-- api_keys under FORCEd row-level security, like every tenant-owned table. The two functions
-- that resolve a key and record its use run before any tenant is known: they now run as a
-- role of their own, whose policies let it read every key and set last_used_at, instead of
-- relying on the table owner bypassing row-level security.

DO $$
BEGIN
  CREATE ROLE tracer_key_lookup NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;

-- The migrating role hands the functions over; it must belong to the new owner to do so.
GRANT tracer_key_lookup TO CURRENT_USER;
GRANT SELECT, UPDATE (last_used_at) ON api_keys TO tracer_key_lookup;

ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY key_lookup ON api_keys FOR SELECT TO tracer_key_lookup USING (true);
CREATE POLICY key_touch ON api_keys FOR UPDATE TO tracer_key_lookup USING (true) WITH CHECK (true);

ALTER FUNCTION tracer_api_key(text) OWNER TO tracer_key_lookup;
ALTER FUNCTION tracer_touch_api_keys(text[], timestamptz) OWNER TO tracer_key_lookup;
