-- What the rollout engine keeps: the installation its background work uses,
-- its own state (JSON, opaque here), a revision for optimistic concurrency,
-- and the rollout each audit entry is about. Existing rows get defaults.
ALTER TABLE rollouts ADD COLUMN installation_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollouts ADD COLUMN record {{.Blob}};
ALTER TABLE rollouts ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;

ALTER TABLE audit ADD COLUMN rollout_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX audit_rollout ON audit (rollout_id, id) WHERE rollout_id <> 0;
CREATE INDEX audit_model ON audit (repo, model, id);

-- A claim looks for a running twin of each due job, and for running jobs
-- whose lease ran out.
CREATE INDEX jobs_running ON jobs (kind, key, lease_until) WHERE state = 'running';
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE state = 'running';
