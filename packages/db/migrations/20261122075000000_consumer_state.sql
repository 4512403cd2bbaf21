-- Up Migration
-- State of stateful consumers (attribution, insights): one snapshot per tenant, service and
-- host, written in the same transaction as the rows it explains, so a restarted or rebalanced
-- consumer resumes from the last commit and replays the rest into no-ops. `version` moves by
-- one per save: an instance whose in-memory copy is older knows another one wrote since.

CREATE TABLE consumer_state (
  tenant_id text NOT NULL,
  service text NOT NULL,
  host text NOT NULL,
  version bigint NOT NULL CHECK (version > 0),
  state bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, service, host)
);
SELECT tracer_protect_tenant_table('consumer_state');

