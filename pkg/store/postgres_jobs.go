package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClaimDueJobs leases up to limit jobs due at now, one per kind and key,
// none whose twin runs under a live lease. Replicas claim jobs one at a
// time (a transaction-scoped advisory lock), so that each claim's snapshot
// begins after the previous claim committed and its check for a running
// twin sees every earlier claim; jobs are few enough that taking turns
// costs little. As in SQLite, the first 2×limit free candidates of each
// state are enough. The UPDATE repeats the due test so that a job
// completed or rescheduled while the claim waited for its row is left
// alone.
func (s *Postgres) ClaimDueJobs(ctx context.Context, worker string, now time.Time, limit int, lease time.Duration) ([]Job, error) {
	var out []Job
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, jobClaimLock); err != nil {
			return fmt.Errorf("advisory lock: %w", err)
		}
		rows, err := tx.Query(ctx, `WITH due AS MATERIALIZED (
				(SELECT id, kind, key, state, due_at FROM jobs j
					WHERE state = 'pending' AND due_at <= $3 AND `+pgNoLiveTwin+`
					ORDER BY due_at LIMIT $5)
				UNION ALL
				(SELECT id, kind, key, state, due_at FROM jobs j
					WHERE state = 'running' AND lease_until <= $3 AND `+pgNoLiveTwin+`
					ORDER BY lease_until LIMIT $5)),
			one AS (SELECT DISTINCT ON (kind, key) id, due_at FROM due
				ORDER BY kind, key, state = 'running' DESC, due_at, id),
			pick AS (SELECT id FROM one ORDER BY due_at, id LIMIT $4)
			UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, lease_owner = $1, lease_until = $2
			FROM pick WHERE j.id = pick.id
			AND ((j.state = 'pending' AND j.due_at <= $3) OR (j.state = 'running' AND j.lease_until <= $3))
			RETURNING j.id, j.kind, j.key, j.payload, j.due_at, j.attempts`,
			worker, ms(now.Add(lease)), ms(now), limit, 2*limit)
		if err != nil {
			return err
		}
		out, err = collectPG(rows, scanClaimedJob)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	sortJobs(out)
	return out, nil
}

// pgNoLiveTwin holds for a job j of ClaimDueJobs when no job of its kind
// and key runs under a lease that outlives now ($3). NOT IN over a
// subquery becomes one hashed lookup table, whatever the planner believes
// of the table's size: with NOT EXISTS, statistics that lag behind a burst
// of jobs made it compare every due job with every running one.
const pgNoLiveTwin = `(j.kind, j.key) NOT IN (SELECT kind, key FROM jobs WHERE state = 'running' AND lease_until > $3)`

// LockEnvironment takes l; when already held it returns the holder and
// ErrLocked. One statement decides: on conflict it locks the holder's row
// and returns it (a no-op update), so the holder is read even when it
// committed after this statement began; xmax = 0 marks a row just inserted.
func (s *Postgres) LockEnvironment(ctx context.Context, l Lock) (Lock, error) {
	if l.LockedAt.IsZero() {
		l.LockedAt = s.now()
	}
	held := Lock{Repo: l.Repo, Environment: l.Environment}
	var at int64
	var inserted bool
	err := s.write.QueryRowContext(ctx, `INSERT INTO locks AS l (repo, environment, reason, locked_by, locked_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (repo, environment) DO UPDATE SET locked_by = l.locked_by
		RETURNING l.reason, l.locked_by, l.locked_at, l.xmax = 0`,
		l.Repo, l.Environment, l.Reason, l.LockedBy, ms(l.LockedAt)).Scan(&held.Reason, &held.LockedBy, &at, &inserted)
	if err != nil {
		return Lock{}, fmt.Errorf("lock %s: %w", l.Environment, err)
	}
	if inserted {
		return l, nil
	}
	held.LockedAt = fromMS(at)
	return lockHeld(held)
}
