package store

import (
	"context"
	"fmt"
	"time"
)

// ClaimDueJobs leases up to limit jobs due at now, one per kind and key,
// none whose twin runs under a live lease. The one writer connection makes
// the check and the claim one step. Each kind and key has at most one
// pending job and one running, so the first 2×limit free candidates of
// each state hold limit distinct kinds and keys, if there are that many:
// the claim reads no further.
func (s *SQLite) ClaimDueJobs(ctx context.Context, worker string, now time.Time, limit int, lease time.Duration) ([]Job, error) {
	rows, err := s.write.QueryContext(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1,
		lease_owner = ?1, lease_until = ?2
		WHERE id IN (SELECT id FROM (
				SELECT id, due_at, row_number() OVER (PARTITION BY kind, key
					ORDER BY state = 'running' DESC, due_at, id) AS nth
				FROM (SELECT * FROM (SELECT id, kind, key, state, due_at FROM jobs j
						WHERE state = 'pending' AND due_at <= ?3 AND `+sqliteNoLiveTwin+`
						ORDER BY due_at LIMIT ?5)
					UNION ALL
					SELECT * FROM (SELECT id, kind, key, state, due_at FROM jobs j
						WHERE state = 'running' AND lease_until <= ?3 AND `+sqliteNoLiveTwin+`
						ORDER BY lease_until LIMIT ?5)))
			WHERE nth = 1 ORDER BY due_at, id LIMIT ?4)
		RETURNING `+claimedJobColumns, worker, ms(now.Add(lease)), ms(now), limit, 2*limit)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	out, err := collectSQL(rows, scanClaimedJob)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	sortJobs(out)
	return out, nil
}

// sqliteNoLiveTwin holds for a job j of ClaimDueJobs when no job of its
// kind and key runs under a lease that outlives now (?3).
const sqliteNoLiveTwin = `NOT EXISTS (SELECT 1 FROM jobs o WHERE o.kind = j.kind AND o.key = j.key
	AND o.state = 'running' AND o.lease_until > ?3)`
