package queue

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/modelgate/modelgate/internal/dbtime"
)

// The claim is where the two databases differ. Both read the same
// candidates: jobs of the queue that are free at now (a pending job's due
// time, a running job's lease end), earliest first, leaving out a pending
// job whose twin of the same kind and key is running. Jobs added once have
// a key of their own; of the others, at most one per kind and key is
// pending and one running (unique indexes), so the candidates hold each
// kind and key once, and no claim can start a second run of one: should a
// race try, the index refuses it.

// freeJobs selects the ids a claim may take: queue $3, free at $4, at
// most $5. NOT IN over the running jobs is one lookup table built per
// claim, whatever the planner believes of the table's size: a subquery
// per candidate, planned on statistics that lag behind a burst of jobs,
// compared every candidate with every job.
const freeJobs = `SELECT id FROM queue_jobs
	WHERE queue = $3 AND state IN ('pending', 'running') AND due_at <= $4
		AND (state = 'running'
			OR (kind, key) NOT IN (SELECT kind, key FROM queue_jobs WHERE queue = $3 AND state = 'running' AND once = 0))
	ORDER BY due_at, id LIMIT $5`

// claimSQLite runs on the one writer connection, so that reading the
// candidates and leasing them is one step no other claim can come between.
func claimSQLite(ctx context.Context, s *Store, queue string, now time.Time, limit int, l Lease) ([]Job, error) {
	var out []Job
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE queue_jobs
			SET state = 'running', attempts = attempts + 1, lease_owner = $1, due_at = $2,
				last_error = CASE WHEN state = 'running' THEN $6 || lease_owner ELSE last_error END
			WHERE id IN (`+freeJobs+`) RETURNING `+jobColumns(""),
			l.Worker, dbtime.Millis(l.Until), queue, dbtime.Millis(now), limit, TakenOverFrom)
		if err != nil {
			return err
		}
		if out, err = scanJobs(rows, false); err != nil {
			return err
		}
		return loadPayloads(ctx, tx, out)
	})
	return out, err
}

// claimPostgres skips the rows that other replicas are claiming at the
// same moment (FOR UPDATE SKIP LOCKED) rather than wait for them. Locking
// a row reads its latest version and tests it again, so a job another
// claim took, or a worker completed, while this one read is left alone.
func claimPostgres(ctx context.Context, s *Store, queue string, now time.Time, limit int, l Lease) ([]Job, error) {
	// MATERIALIZED: the locking select runs once, whatever the plan.
	rows, err := s.write.QueryContext(ctx, `WITH free AS MATERIALIZED (`+freeJobs+` FOR UPDATE SKIP LOCKED),
		claimed AS (
			UPDATE queue_jobs j SET state = 'running', attempts = j.attempts + 1, lease_owner = $1, due_at = $2,
				last_error = CASE WHEN j.state = 'running' THEN $6::text || j.lease_owner ELSE j.last_error END
			FROM free WHERE j.id = free.id RETURNING j.*)
		SELECT `+jobColumns("c.")+`, p.payload FROM claimed c LEFT JOIN queue_payloads p ON p.id = c.id`,
		l.Worker, dbtime.Millis(l.Until), queue, dbtime.Millis(now), limit, TakenOverFrom)
	if err != nil {
		return nil, err
	}
	return scanJobs(rows, true)
}

// TakenOverFrom begins the LastError of a job claimed because the lease of
// the worker that ran it ran out (the worker died): the worker's name
// follows.
const TakenOverFrom = "taken over from the lapsed lease of "

// TakenOver says a claimed job was taken over from a worker whose lease
// ran out.
func (j Job) TakenOver() bool { return strings.HasPrefix(j.LastError, TakenOverFrom) }

// scanJobs reads every row of jobColumns, and a payload after them when
// withPayload.
func scanJobs(rows *sql.Rows, withPayload bool) ([]Job, error) {
	defer rows.Close()
	var out []Job
	for rows.Next() {
		var payload *[]byte
		if withPayload {
			payload = &[]byte{}
		}
		j, err := scanJob(rows, payload)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
