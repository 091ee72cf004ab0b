package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RecordCommand stores c, or returns the command already stored for its delivery.
func (s *SQLite) RecordCommand(ctx context.Context, c Command) (Command, bool, error) {
	now := s.now()
	c.CreatedAt, c.UpdatedAt = now, now
	res, err := s.write.ExecContext(ctx, `INSERT INTO commands
		(delivery_id, repo, pr, comment_id, commenter, name, args, state, outcome, api_calls, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id) DO NOTHING`,
		c.DeliveryID, c.Repo, c.PR, c.CommentID, c.Commenter, c.Name, c.Args, c.State, c.Outcome, c.APICalls,
		ms(now), ms(now))
	if err != nil {
		return Command{}, false, fmt.Errorf("record command: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		c.ID, _ = res.LastInsertId()
		return c, true, nil
	}
	cmds, err := s.queryCommands(ctx, `WHERE delivery_id = ?`, c.DeliveryID)
	if err != nil || len(cmds) == 0 {
		return Command{}, false, fmt.Errorf("record command: find existing for delivery %s: %w", c.DeliveryID, err)
	}
	return cmds[0], false, nil
}

// UpdateCommand records a command's progress.
func (s *SQLite) UpdateCommand(ctx context.Context, id int64, state, outcome string, apiCalls int) error {
	res, err := s.write.ExecContext(ctx, `UPDATE commands SET state = ?, outcome = ?, api_calls = ?, updated_at = ?
		WHERE id = ?`, state, outcome, apiCalls, ms(s.now()), id)
	if err != nil {
		return fmt.Errorf("update command %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update command %d: %w", id, ErrNotFound)
	}
	return nil
}

// ListCommands returns a pull request's commands, newest first.
func (s *SQLite) ListCommands(ctx context.Context, repo string, pr int, limit int) ([]Command, error) {
	return s.queryCommands(ctx, `WHERE repo = ? AND pr = ? ORDER BY id DESC LIMIT ?`, repo, pr, limitOr(limit, 100))
}

func (s *SQLite) queryCommands(ctx context.Context, where string, args ...any) ([]Command, error) {
	return listSQL(ctx, s.read, "list commands", scanCommand, `SELECT `+commandColumns+` FROM commands `+where, args...)
}

// CreateRollout stores r; ErrConflict when its model is already rolling out there.
func (s *SQLite) CreateRollout(ctx context.Context, r Rollout) (Rollout, error) {
	now := s.now()
	r.CreatedAt, r.UpdatedAt = now, now
	if r.State == "" {
		r.State = "pending"
	}
	r.Revision = 1
	res, err := s.write.ExecContext(ctx, `INSERT INTO rollouts (repo, pr, model, version, baseline_version,
		environment, head_sha, state, active, stage, traffic_percent, plan, started_by, installation_id, record,
		revision, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM locks WHERE repo = ? AND environment = ?)`,
		r.Repo, r.PR, r.Model, r.Version, r.BaselineVersion, r.Environment, r.HeadSHA, r.State, boolInt(r.Active()),
		r.Stage, r.TrafficPercent, nonNil(r.Plan), r.StartedBy, r.InstallationID, r.Record, r.Revision,
		ms(now), ms(now), r.Repo, r.Environment)
	if isUnique(err) {
		return Rollout{}, fmt.Errorf("create rollout of %s in %s: %w", r.Model, r.Environment, ErrConflict)
	}
	if err != nil {
		return Rollout{}, fmt.Errorf("create rollout: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return Rollout{}, fmt.Errorf("create rollout of %s: %s %w", r.Model, r.Environment, ErrLocked)
	}
	r.ID, _ = res.LastInsertId()
	return r, nil
}

// UpdateRollout saves r over the revision r.Revision and returns the row
// at its next revision.
func (s *SQLite) UpdateRollout(ctx context.Context, r Rollout) (Rollout, error) {
	got, err := scanRollout(s.write.QueryRowContext(ctx, `UPDATE rollouts SET state = ?, active = ?, stage = ?,
		traffic_percent = ?, baseline_version = ?, head_sha = ?, installation_id = ?, record = ?,
		revision = revision + 1, updated_at = ?
		WHERE id = ? AND revision = ? RETURNING `+rolloutColumns,
		r.State, boolInt(r.Active()), r.Stage, r.TrafficPercent, r.BaselineVersion, r.HeadSHA, r.InstallationID,
		r.Record, ms(s.now()), r.ID, r.Revision))
	switch {
	case err == nil:
		return got, nil
	case isUnique(err):
		return Rollout{}, activeConflict(r)
	case errors.Is(err, sql.ErrNoRows):
		var current int64
		err := s.write.QueryRowContext(ctx, `SELECT revision FROM rollouts WHERE id = ?`, r.ID).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Rollout{}, fmt.Errorf("update rollout %d: read revision: %w", r.ID, err)
		}
		return Rollout{}, staleRollout(r, current, err == nil)
	default:
		return Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
	}
}

// GetRollout returns one rollout by id.
func (s *SQLite) GetRollout(ctx context.Context, id int64) (Rollout, error) {
	rs, err := s.queryRollouts(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Rollout{}, err
	}
	if len(rs) == 0 {
		return Rollout{}, fmt.Errorf("rollout %d: %w", id, ErrNotFound)
	}
	return rs[0], nil
}

// ListRollouts returns the rollouts f selects, newest first.
func (s *SQLite) ListRollouts(ctx context.Context, f RolloutFilter) ([]Rollout, error) {
	where, args := "WHERE 1 = 1", []any{}
	add := func(cond string, v any) { where += " AND " + cond; args = append(args, v) }
	if f.Repo != "" {
		add("repo = ?", f.Repo)
	}
	if f.PR != 0 {
		add("pr = ?", f.PR)
	}
	if f.Model != "" {
		add("model = ?", f.Model)
	}
	if f.Environment != "" {
		add("environment = ?", f.Environment)
	}
	if f.ActiveOnly {
		add("active = ?", 1)
	}
	if len(f.States) > 0 {
		where += " AND state IN (?" + strings.Repeat(", ?", len(f.States)-1) + ")"
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	return s.queryRollouts(ctx, where+" ORDER BY id DESC LIMIT "+itoa(limitOr(f.Limit, 100)), args...)
}

func (s *SQLite) queryRollouts(ctx context.Context, where string, args ...any) ([]Rollout, error) {
	return listSQL(ctx, s.read, "list rollouts", scanRollout, `SELECT `+rolloutColumns+` FROM rollouts `+where, args...)
}

// PutStage inserts or replaces a rollout's stage.
func (s *SQLite) PutStage(ctx context.Context, st Stage) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO stages (rollout_id, idx, traffic_percent, deployment_id, state,
		verdict, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
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
func (s *SQLite) ListStages(ctx context.Context, rolloutID int64) ([]Stage, error) {
	return listSQL(ctx, s.read, fmt.Sprintf("list stages of rollout %d", rolloutID), scanStage,
		`SELECT `+stageColumns+` FROM stages WHERE rollout_id = ? ORDER BY idx`, rolloutID)
}

// ScheduleJob adds j, or reschedules the pending job with its kind and key.
func (s *SQLite) ScheduleJob(ctx context.Context, j Job) (int64, error) {
	var id int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO jobs (kind, key, payload, due_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, key) WHERE state = 'pending' DO UPDATE SET payload = excluded.payload, due_at = excluded.due_at
		RETURNING id`, j.Kind, j.Key, j.Payload, ms(j.DueAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("schedule job %s/%s: %w", j.Kind, j.Key, err)
	}
	return id, nil
}

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

// CancelJobs deletes the pending jobs of kind and key.
func (s *SQLite) CancelJobs(ctx context.Context, kind, key string) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM jobs WHERE kind = ? AND key = ? AND state = 'pending'`, kind, key)
	if err != nil {
		return 0, fmt.Errorf("cancel jobs %s/%s: %w", kind, key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("cancel jobs %s/%s: %w", kind, key, err)
	}
	return int(n), nil
}

// CompleteJob marks a job worker holds done, or failed with err.
func (s *SQLite) CompleteJob(ctx context.Context, worker string, id int64, jobErr error) error {
	state, msg := jobOutcome(jobErr)
	res, err := s.write.ExecContext(ctx, `UPDATE jobs SET state = ?, last_error = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND state = 'running' AND lease_owner = ?`, state, msg, id, worker)
	if err != nil {
		return fmt.Errorf("complete job %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("complete job %d as %s: %w", id, worker, ErrLeaseLost)
	}
	return nil
}

// LockEnvironment takes l; when already held it returns the holder and ErrLocked.
func (s *SQLite) LockEnvironment(ctx context.Context, l Lock) (Lock, error) {
	if l.LockedAt.IsZero() {
		l.LockedAt = s.now()
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO locks (repo, environment, reason, locked_by, locked_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo, environment) DO NOTHING`,
		l.Repo, l.Environment, l.Reason, l.LockedBy, ms(l.LockedAt))
	if err != nil {
		return Lock{}, fmt.Errorf("lock %s: %w", l.Environment, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return l, nil
	}
	held := Lock{Repo: l.Repo, Environment: l.Environment}
	var at int64
	err = s.read.QueryRowContext(ctx, `SELECT reason, locked_by, locked_at FROM locks WHERE repo = ? AND environment = ?`,
		l.Repo, l.Environment).Scan(&held.Reason, &held.LockedBy, &at)
	if err != nil {
		return Lock{}, fmt.Errorf("lock %s: read holder: %w", l.Environment, err)
	}
	held.LockedAt = fromMS(at)
	return held, fmt.Errorf("lock %s: %w by %s", l.Environment, ErrLocked, held.LockedBy)
}

// UnlockEnvironment releases a lock; ErrNotFound when there was none.
func (s *SQLite) UnlockEnvironment(ctx context.Context, repo, environment string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM locks WHERE repo = ? AND environment = ?`, repo, environment)
	if err != nil {
		return fmt.Errorf("unlock %s: %w", environment, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("unlock %s: %w", environment, ErrNotFound)
	}
	return nil
}

// ListLocks returns a repository's locks.
func (s *SQLite) ListLocks(ctx context.Context, repo string) ([]Lock, error) {
	return listSQL(ctx, s.read, "list locks", scanLock,
		`SELECT `+lockColumns+` FROM locks WHERE repo = ? ORDER BY environment`, repo)
}

// AppendAudit adds an entry to the audit log.
func (s *SQLite) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO audit (at, actor, action, repo, pr, model, environment,
		decision, reason, delivery_id, rollout_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ms(e.At), e.Actor, e.Action, e.Repo, e.PR, e.Model, e.Environment, e.Decision, e.Reason, e.DeliveryID,
		e.RolloutID, e.Details)
	if err != nil {
		return 0, fmt.Errorf("append audit: %w", err)
	}
	return res.LastInsertId()
}

// ListAudit returns the entries f selects, oldest first.
func (s *SQLite) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	where, args := "WHERE at >= ?", []any{ms(f.Since)}
	if f.Repo != "" {
		where, args = where+" AND repo = ?", append(args, f.Repo)
	}
	if f.PR != 0 {
		where, args = where+" AND pr = ?", append(args, f.PR)
	}
	if f.Model != "" {
		where, args = where+" AND model = ?", append(args, f.Model)
	}
	if f.Environment != "" {
		where, args = where+" AND environment = ?", append(args, f.Environment)
	}
	if f.RolloutID != 0 {
		where, args = where+" AND rollout_id = ?", append(args, f.RolloutID)
	}
	return listSQL(ctx, s.read, "list audit", scanAudit,
		`SELECT `+auditColumns+` FROM audit `+where+` ORDER BY id LIMIT `+itoa(limitOr(f.Limit, 1000)), args...)
}

func limitOr(limit, def int) int {
	if limit <= 0 {
		return def
	}
	return limit
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
