-- One durable queue for webhook deliveries and rollout jobs (pkg/queue).
-- A job waits in a named queue; due_at is when a pending job is due and
-- when a running job's lease ends, so that one index range finds both the
-- due jobs and those whose worker died. A job's payload lives apart, since
-- its state is written three times or more and a row is rewritten whole.
CREATE TABLE queue_jobs (
	id          {{.ID}},
	queue       TEXT    NOT NULL,
	kind        TEXT    NOT NULL,
	key         TEXT    NOT NULL,
	once        INTEGER NOT NULL DEFAULT 0,         -- 1: added once; its key is never stored again in its queue
	state       TEXT    NOT NULL DEFAULT 'pending', -- pending, running, done, failed
	due_at      BIGINT  NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	completions INTEGER NOT NULL DEFAULT 0,         -- more than 1 is a bug
	last_error  TEXT    NOT NULL DEFAULT '',
	lease_owner TEXT    NOT NULL DEFAULT '',
	created_at  BIGINT  NOT NULL,
	done_at     BIGINT  NOT NULL DEFAULT 0,
	legacy_id   BIGINT                              -- for this migration only
);
CREATE TABLE queue_payloads (
	id      {{.RowID}} REFERENCES queue_jobs (id),
	payload {{.Blob}} NOT NULL
);
-- A redelivered webhook finds its key taken. Of the jobs scheduled again
-- and again (once = 0), one per kind and key is pending and one running,
-- so that a job never runs beside its twin; a job added once has no twin,
-- and its state changes touch no more indexes than they must.
CREATE UNIQUE INDEX queue_once ON queue_jobs (queue, key) WHERE once = 1;
CREATE UNIQUE INDEX queue_one_pending ON queue_jobs (queue, kind, key) WHERE state = 'pending' AND once = 0;
CREATE UNIQUE INDEX queue_one_running ON queue_jobs (queue, kind, key) WHERE state = 'running' AND once = 0;
CREATE INDEX queue_due ON queue_jobs (queue, due_at, id) WHERE state IN ('pending', 'running');

-- Every delivery moves over, the done ones too: they keep a redelivery
-- out. One in processing keeps its lease (its next attempt was the lease's
-- end): should its worker still run, it cannot record the outcome in the
-- old table, and the delivery is taken over when the lease ends.
INSERT INTO queue_jobs (queue, kind, key, once, state, due_at, attempts, completions, last_error, lease_owner,
	created_at, done_at)
SELECT 'webhook', event, id, 1, CASE state WHEN 'processing' THEN 'running' ELSE state END, next_attempt,
	attempts, processed, last_error, lease_owner, received_at, done_at
FROM deliveries ORDER BY received_at, id;
INSERT INTO queue_payloads (id, payload)
SELECT q.id, p.payload FROM delivery_payloads p JOIN queue_jobs q ON q.queue = 'webhook' AND q.key = p.id AND q.once = 1;

-- Rollout jobs: a running one's lease ended at lease_until. Of two
-- running jobs of one kind and key, which the old claims could leave
-- behind, one stays: they would do the same work.
INSERT INTO queue_jobs (queue, kind, key, state, due_at, attempts, completions, last_error, lease_owner,
	created_at, legacy_id)
SELECT 'rollout', kind, key, state, CASE state WHEN 'running' THEN lease_until ELSE due_at END, attempts,
	CASE state WHEN 'done' THEN 1 ELSE 0 END, last_error, lease_owner, due_at, id
FROM jobs WHERE true ORDER BY id
ON CONFLICT DO NOTHING;
INSERT INTO queue_payloads (id, payload)
SELECT q.id, j.payload FROM jobs j JOIN queue_jobs q ON q.legacy_id = j.id WHERE j.payload IS NOT NULL;
ALTER TABLE queue_jobs DROP COLUMN legacy_id;

DROP TABLE delivery_payloads;
DROP TABLE deliveries;
DROP TABLE jobs;
