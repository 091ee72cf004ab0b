package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// RecordCommand stores c, or returns the command already stored for its delivery.
func (s *Postgres) RecordCommand(ctx context.Context, c Command) (Command, bool, error) {
	now := s.now()
	c.CreatedAt, c.UpdatedAt = now, now
	err := s.pool.QueryRow(ctx, `INSERT INTO commands
		(delivery_id, repo, pr, comment_id, commenter, name, args, state, outcome, api_calls, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (delivery_id) DO NOTHING RETURNING id`,
		c.DeliveryID, c.Repo, c.PR, c.CommentID, c.Commenter, c.Name, c.Args, c.State, c.Outcome, c.APICalls,
		ms(now)).Scan(&c.ID)
	if err == nil {
		return c, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Command{}, false, fmt.Errorf("record command: %w", err)
	}
	// The conflicting insert has committed (ON CONFLICT waited for it), so
	// this later statement sees it.
	cmds, err := s.queryCommands(ctx, `WHERE delivery_id = $1`, c.DeliveryID)
	if err != nil || len(cmds) == 0 {
		return Command{}, false, fmt.Errorf("record command: find existing for delivery %s: %w", c.DeliveryID, err)
	}
	return cmds[0], false, nil
}

// UpdateCommand records a command's progress.
func (s *Postgres) UpdateCommand(ctx context.Context, id int64, state, outcome string, apiCalls int) error {
	tag, err := s.pool.Exec(ctx, `UPDATE commands SET state = $1, outcome = $2, api_calls = $3, updated_at = $4
		WHERE id = $5`, state, outcome, apiCalls, ms(s.now()), id)
	if err != nil {
		return fmt.Errorf("update command %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update command %d: %w", id, ErrNotFound)
	}
	return nil
}

// ListCommands returns a pull request's commands, newest first.
func (s *Postgres) ListCommands(ctx context.Context, repo string, pr int, limit int) ([]Command, error) {
	return s.queryCommands(ctx, `WHERE repo = $1 AND pr = $2 ORDER BY id DESC LIMIT $3`, repo, pr, limitOr(limit, 100))
}

func (s *Postgres) queryCommands(ctx context.Context, where string, args ...any) ([]Command, error) {
	return listPG(ctx, s.pool, "list commands", scanCommand, `SELECT `+commandColumns+` FROM commands `+where, args...)
}

// CreateRollout stores r; ErrConflict when its model is already rolling out
// there. Of two replicas racing, the unique index lets exactly one in.
func (s *Postgres) CreateRollout(ctx context.Context, r Rollout) (Rollout, error) {
	now := s.now()
	r.CreatedAt, r.UpdatedAt = now, now
	if r.State == "" {
		r.State = "pending"
	}
	r.Revision = 1
	err := s.pool.QueryRow(ctx, `INSERT INTO rollouts (repo, pr, model, version, baseline_version,
		environment, head_sha, state, active, stage, traffic_percent, plan, started_by, installation_id, record,
		revision, created_at, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17
		WHERE NOT EXISTS (SELECT 1 FROM locks WHERE repo = $1 AND environment = $6) RETURNING id`,
		r.Repo, r.PR, r.Model, r.Version, r.BaselineVersion, r.Environment, r.HeadSHA, r.State, boolInt(r.Active()),
		r.Stage, r.TrafficPercent, nonNil(r.Plan), r.StartedBy, r.InstallationID, r.Record, r.Revision,
		ms(now)).Scan(&r.ID)
	if isPGUnique(err) {
		return Rollout{}, fmt.Errorf("create rollout of %s in %s: %w", r.Model, r.Environment, ErrConflict)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return Rollout{}, fmt.Errorf("create rollout of %s: %s %w", r.Model, r.Environment, ErrLocked)
	}
	if err != nil {
		return Rollout{}, fmt.Errorf("create rollout: %w", err)
	}
	return r, nil
}

// UpdateRollout saves r over the revision r.Revision and returns the row
// at its next revision. Of two replicas writing over the same revision,
// the second waits for the first's row lock, then finds the revision moved
// on and changes nothing.
func (s *Postgres) UpdateRollout(ctx context.Context, r Rollout) (Rollout, error) {
	got, err := scanRollout(s.pool.QueryRow(ctx, `UPDATE rollouts SET state = $1, active = $2, stage = $3,
		traffic_percent = $4, baseline_version = $5, head_sha = $6, installation_id = $7, record = $8,
		revision = revision + 1, updated_at = $9
		WHERE id = $10 AND revision = $11 RETURNING `+rolloutColumns,
		r.State, boolInt(r.Active()), r.Stage, r.TrafficPercent, r.BaselineVersion, r.HeadSHA, r.InstallationID,
		r.Record, ms(s.now()), r.ID, r.Revision))
	switch {
	case err == nil:
		return got, nil
	case isPGUnique(err):
		return Rollout{}, activeConflict(r)
	case errors.Is(err, pgx.ErrNoRows):
		var current int64
		err := s.pool.QueryRow(ctx, `SELECT revision FROM rollouts WHERE id = $1`, r.ID).Scan(&current)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return Rollout{}, fmt.Errorf("update rollout %d: read revision: %w", r.ID, err)
		}
		return Rollout{}, staleRollout(r, current, err == nil)
	default:
		return Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
	}
}

// GetRollout returns one rollout by id.
func (s *Postgres) GetRollout(ctx context.Context, id int64) (Rollout, error) {
	rs, err := s.queryRollouts(ctx, `WHERE id = $1`, id)
	if err != nil {
		return Rollout{}, err
	}
	if len(rs) == 0 {
		return Rollout{}, fmt.Errorf("rollout %d: %w", id, ErrNotFound)
	}
	return rs[0], nil
}

// ListRollouts returns the rollouts f selects, newest first.
func (s *Postgres) ListRollouts(ctx context.Context, f RolloutFilter) ([]Rollout, error) {
	w := &where{}
	if f.Repo != "" {
		w.add("repo =", f.Repo)
	}
	if f.PR != 0 {
		w.add("pr =", f.PR)
	}
	if f.Model != "" {
		w.add("model =", f.Model)
	}
	if f.Environment != "" {
		w.add("environment =", f.Environment)
	}
	if f.ActiveOnly {
		w.add("active =", 1)
	}
	if len(f.States) > 0 {
		w.add("state = ANY(", f.States)
		w.sql += ")"
	}
	return s.queryRollouts(ctx, w.sql+" ORDER BY id DESC LIMIT "+itoa(limitOr(f.Limit, 100)), w.args...)
}

func (s *Postgres) queryRollouts(ctx context.Context, where string, args ...any) ([]Rollout, error) {
	return listPG(ctx, s.pool, "list rollouts", scanRollout, `SELECT `+rolloutColumns+` FROM rollouts `+where, args...)
}

// PutStage inserts or replaces a rollout's stage.
func (s *Postgres) PutStage(ctx context.Context, st Stage) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO stages (rollout_id, idx, traffic_percent, deployment_id, state,
		verdict, started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (rollout_id, idx) DO UPDATE SET traffic_percent = excluded.traffic_percent,
		deployment_id = excluded.deployment_id, state = excluded.state, verdict = excluded.verdict,
		started_at = excluded.started_at, finished_at = excluded.finished_at`,
		st.RolloutID, st.Index, st.TrafficPercent, st.DeploymentID, st.State, st.Verdict, ms(st.StartedAt), ms(st.FinishedAt))
	if err != nil {
		return fmt.Errorf("put stage %d of rollout %d: %w", st.Index, st.RolloutID, err)
	}
	return nil
}

// ListStages returns a rollout's stages in order.
func (s *Postgres) ListStages(ctx context.Context, rolloutID int64) ([]Stage, error) {
	return listPG(ctx, s.pool, fmt.Sprintf("list stages of rollout %d", rolloutID), scanStage,
		`SELECT `+stageColumns+` FROM stages WHERE rollout_id = $1 ORDER BY idx`, rolloutID)
}

// ScheduleJob adds j, or reschedules the pending job with its kind and key.
func (s *Postgres) ScheduleJob(ctx context.Context, j Job) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO jobs (kind, key, payload, due_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, key) WHERE state = 'pending' DO UPDATE SET payload = excluded.payload, due_at = excluded.due_at
		RETURNING id`, j.Kind, j.Key, j.Payload, ms(j.DueAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("schedule job %s/%s: %w", j.Kind, j.Key, err)
	}
	return id, nil
}

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

// CancelJobs deletes the pending jobs of kind and key.
func (s *Postgres) CancelJobs(ctx context.Context, kind, key string) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM jobs WHERE kind = $1 AND key = $2 AND state = 'pending'`, kind, key)
	if err != nil {
		return 0, fmt.Errorf("cancel jobs %s/%s: %w", kind, key, err)
	}
	return int(tag.RowsAffected()), nil
}

// CompleteJob marks a job worker holds done, or failed with err.
func (s *Postgres) CompleteJob(ctx context.Context, worker string, id int64, jobErr error) error {
	state, msg := jobOutcome(jobErr)
	tag, err := s.pool.Exec(ctx, `UPDATE jobs SET state = $1, last_error = $2, lease_owner = '', lease_until = 0
		WHERE id = $3 AND state = 'running' AND lease_owner = $4`, state, msg, id, worker)
	if err != nil {
		return fmt.Errorf("complete job %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("complete job %d as %s: %w", id, worker, ErrLeaseLost)
	}
	return nil
}

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
	err := s.pool.QueryRow(ctx, `INSERT INTO locks AS l (repo, environment, reason, locked_by, locked_at)
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
	return held, fmt.Errorf("lock %s: %w by %s", l.Environment, ErrLocked, held.LockedBy)
}

// UnlockEnvironment releases a lock; ErrNotFound when there was none.
func (s *Postgres) UnlockEnvironment(ctx context.Context, repo, environment string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM locks WHERE repo = $1 AND environment = $2`, repo, environment)
	if err != nil {
		return fmt.Errorf("unlock %s: %w", environment, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("unlock %s: %w", environment, ErrNotFound)
	}
	return nil
}

// ListLocks returns a repository's locks.
func (s *Postgres) ListLocks(ctx context.Context, repo string) ([]Lock, error) {
	return listPG(ctx, s.pool, "list locks", scanLock,
		`SELECT `+lockColumns+` FROM locks WHERE repo = $1 ORDER BY environment`, repo)
}

// AppendAudit adds an entry to the audit log.
func (s *Postgres) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO audit (at, actor, action, repo, pr, model, environment,
		decision, reason, delivery_id, rollout_id, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		ms(e.At), e.Actor, e.Action, e.Repo, e.PR, e.Model, e.Environment, e.Decision, e.Reason, e.DeliveryID,
		e.RolloutID, e.Details).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("append audit: %w", err)
	}
	return id, nil
}

// ListAudit returns the entries f selects, oldest first.
func (s *Postgres) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	w := &where{}
	w.add("at >=", ms(f.Since))
	if f.Repo != "" {
		w.add("repo =", f.Repo)
	}
	if f.PR != 0 {
		w.add("pr =", f.PR)
	}
	if f.Model != "" {
		w.add("model =", f.Model)
	}
	if f.Environment != "" {
		w.add("environment =", f.Environment)
	}
	if f.RolloutID != 0 {
		w.add("rollout_id =", f.RolloutID)
	}
	return listPG(ctx, s.pool, "list audit", scanAudit,
		`SELECT `+auditColumns+` FROM audit `+w.sql+` ORDER BY id LIMIT `+itoa(limitOr(f.Limit, 1000)), w.args...)
}

// where builds a WHERE clause with numbered placeholders.
type where struct {
	sql  string
	args []any
}

// add appends "cond $n" for v, cond ending in its operator.
func (w *where) add(cond string, v any) {
	w.args = append(w.args, v)
	if w.sql == "" {
		w.sql = "WHERE "
	} else {
		w.sql += " AND "
	}
	w.sql += cond + " $" + strconv.Itoa(len(w.args))
}
