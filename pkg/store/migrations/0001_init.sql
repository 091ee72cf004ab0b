-- The first schema, one text for SQLite and PostgreSQL (the store renders
-- it as a Go template for each; the words are in schema.go): .ID is an id
-- the database assigns (INTEGER PRIMARY KEY in SQLite, a BIGINT identity
-- in PostgreSQL) and .Blob a byte string (BLOB, BYTEA). Times are BIGINT
-- milliseconds since the Unix epoch (UTC) and ids of our own are BIGINT.

-- A delivery's state lives apart from its payload: the queue updates state
-- three times per delivery, and both databases write a whole new row on
-- UPDATE.
CREATE TABLE deliveries (
	id            TEXT    PRIMARY KEY,          -- X-GitHub-Delivery
	event         TEXT    NOT NULL,
	state         TEXT    NOT NULL DEFAULT 'pending',
	attempts      INTEGER NOT NULL DEFAULT 0,
	processed     INTEGER NOT NULL DEFAULT 0,   -- completions; more than 1 is a bug
	last_error    TEXT    NOT NULL DEFAULT '',
	lease_owner   TEXT    NOT NULL DEFAULT '',
	lease_until   BIGINT  NOT NULL DEFAULT 0,
	received_at   BIGINT  NOT NULL,
	next_attempt  BIGINT  NOT NULL,
	done_at       BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt);

CREATE TABLE delivery_payloads (
	id      TEXT PRIMARY KEY REFERENCES deliveries (id),
	payload {{.Blob}} NOT NULL
);

CREATE TABLE commands (
	id          {{.ID}},
	delivery_id TEXT    NOT NULL UNIQUE,
	repo        TEXT    NOT NULL,
	pr          INTEGER NOT NULL,
	comment_id  BIGINT  NOT NULL,
	commenter   TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	args        TEXT    NOT NULL,
	state       TEXT    NOT NULL,
	outcome     TEXT    NOT NULL DEFAULT '',
	api_calls   INTEGER NOT NULL DEFAULT 0,
	created_at  BIGINT  NOT NULL,
	updated_at  BIGINT  NOT NULL
);
CREATE INDEX commands_pr ON commands (repo, pr, id);

CREATE TABLE rollouts (
	id               {{.ID}},
	repo             TEXT    NOT NULL,
	pr               INTEGER NOT NULL,
	model            TEXT    NOT NULL,
	version          TEXT    NOT NULL,
	baseline_version TEXT    NOT NULL DEFAULT '',
	environment      TEXT    NOT NULL,
	head_sha         TEXT    NOT NULL,
	state            TEXT    NOT NULL,
	active           INTEGER NOT NULL,          -- 1 while pending, running or paused
	stage            INTEGER NOT NULL DEFAULT 0,
	traffic_percent  INTEGER NOT NULL DEFAULT 0,
	plan             {{.Blob}}    NOT NULL,
	started_by       TEXT    NOT NULL,
	created_at       BIGINT  NOT NULL,
	updated_at       BIGINT  NOT NULL
);
-- One active rollout per model and environment (a partial unique index in
-- both SQLite and PostgreSQL).
CREATE UNIQUE INDEX rollouts_one_active ON rollouts (repo, model, environment) WHERE active = 1;
CREATE INDEX rollouts_pr ON rollouts (repo, pr);

CREATE TABLE stages (
	rollout_id      BIGINT  NOT NULL REFERENCES rollouts (id),
	idx             INTEGER NOT NULL,
	traffic_percent INTEGER NOT NULL,
	deployment_id   BIGINT  NOT NULL DEFAULT 0,
	state           TEXT    NOT NULL,
	verdict         {{.Blob}},
	started_at      BIGINT  NOT NULL,
	finished_at     BIGINT  NOT NULL DEFAULT 0,
	PRIMARY KEY (rollout_id, idx)
);

CREATE TABLE jobs (
	id          {{.ID}},
	kind        TEXT    NOT NULL,
	key         TEXT    NOT NULL,
	payload     {{.Blob}},
	due_at      BIGINT  NOT NULL,
	state       TEXT    NOT NULL DEFAULT 'pending',
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT    NOT NULL DEFAULT '',
	lease_owner TEXT    NOT NULL DEFAULT '',
	lease_until BIGINT  NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jobs_one_pending ON jobs (kind, key) WHERE state = 'pending';
CREATE INDEX jobs_due ON jobs (state, due_at);

CREATE TABLE locks (
	repo        TEXT   NOT NULL,
	environment TEXT   NOT NULL,
	reason      TEXT   NOT NULL,
	locked_by   TEXT   NOT NULL,
	locked_at   BIGINT NOT NULL,
	PRIMARY KEY (repo, environment)
);

CREATE TABLE audit (
	id          {{.ID}},
	at          BIGINT  NOT NULL,
	actor       TEXT    NOT NULL,
	action      TEXT    NOT NULL,
	repo        TEXT    NOT NULL,
	pr          INTEGER NOT NULL DEFAULT 0,
	model       TEXT    NOT NULL DEFAULT '',
	environment TEXT    NOT NULL DEFAULT '',
	decision    TEXT    NOT NULL,
	reason      TEXT    NOT NULL DEFAULT '',
	delivery_id TEXT    NOT NULL DEFAULT '',
	details     {{.Blob}}
);
CREATE INDEX audit_repo ON audit (repo, at);
