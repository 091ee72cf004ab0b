package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/modelgate/modelgate/internal/dbtime"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// records is the SQL both backends share, through database/sql: their
// tables are the same, and SQLite binds $1, $2 … as PostgreSQL does. Only
// what really differs (LockEnvironment) is written twice.
type records struct {
	write *sql.DB // SQLite: its one writer connection
	read  *sql.DB // SQLite: a pool of readers; PostgreSQL: write again
	now   func() time.Time
}

// RecordCommand stores c, or returns the command already stored for its delivery.
func (s *records) RecordCommand(ctx context.Context, c Command) (Command, bool, error) {
	now := s.now()
	c.CreatedAt, c.UpdatedAt = now, now
	err := s.write.QueryRowContext(ctx, `INSERT INTO commands
		(delivery_id, repo, pr, comment_id, commenter, name, args, state, outcome, api_calls, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (delivery_id) DO NOTHING RETURNING id`,
		c.DeliveryID, c.Repo, c.PR, c.CommentID, c.Commenter, c.Name, c.Args, c.State, c.Outcome, c.APICalls,
		dbtime.Millis(now)).Scan(&c.ID)
	if err == nil {
		return c, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Command{}, false, fmt.Errorf("record command: %w", err)
	}
	// The conflicting insert has committed (PostgreSQL's ON CONFLICT waited
	// for it; SQLite has one writer), so this later statement sees it.
	cmds, err := s.queryCommands(ctx, `WHERE delivery_id = $1`, c.DeliveryID)
	if err != nil || len(cmds) == 0 {
		return Command{}, false, fmt.Errorf("record command: find existing for delivery %s: %w", c.DeliveryID, err)
	}
	return cmds[0], false, nil
}

// UpdateCommand records a command's progress.
func (s *records) UpdateCommand(ctx context.Context, id int64, state, outcome string, apiCalls int) error {
	res, err := s.write.ExecContext(ctx, `UPDATE commands SET state = $1, outcome = $2, api_calls = $3, updated_at = $4
		WHERE id = $5`, state, outcome, apiCalls, dbtime.Millis(s.now()), id)
	if err != nil {
		return fmt.Errorf("update command %d: %w", id, err)
	}
	return mustChange(res, fmt.Sprintf("update command %d", id))
}

// ListCommands returns a pull request's commands, newest first.
func (s *records) ListCommands(ctx context.Context, repo string, pr int, limit int) ([]Command, error) {
	return s.queryCommands(ctx, `WHERE repo = $1 AND pr = $2 ORDER BY id DESC LIMIT $3`, repo, pr, limitOr(limit, 100))
}

func (s *records) queryCommands(ctx context.Context, where string, args ...any) ([]Command, error) {
	return listSQL(ctx, s.read, "list commands", scanCommand, `SELECT `+commandColumns+` FROM commands `+where, args...)
}

// CreateRollout stores r; ErrConflict when its model is already rolling
// out there, ErrLocked when the environment is locked. Of two replicas
// racing, the unique index lets exactly one in.
func (s *records) CreateRollout(ctx context.Context, r Rollout) (Rollout, error) {
	now := s.now()
	r.CreatedAt, r.UpdatedAt = now, now
	if r.State == "" {
		r.State = "pending"
	}
	r.Revision = 1
	err := s.write.QueryRowContext(ctx, `INSERT INTO rollouts (repo, pr, model, version, baseline_version,
		environment, head_sha, state, active, stage, traffic_percent, plan, started_by, installation_id, record,
		revision, created_at, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17
		WHERE NOT EXISTS (SELECT 1 FROM locks WHERE repo = $1 AND environment = $6) RETURNING id`,
		r.Repo, r.PR, r.Model, r.Version, r.BaselineVersion, r.Environment, r.HeadSHA, r.State, boolInt(r.Active()),
		r.Stage, r.TrafficPercent, nonNil(r.Plan), r.StartedBy, r.InstallationID, r.Record, r.Revision,
		dbtime.Millis(now)).Scan(&r.ID)
	switch {
	case isUnique(err):
		return Rollout{}, fmt.Errorf("create rollout of %s in %s: %w", r.Model, r.Environment, ErrConflict)
	case errors.Is(err, sql.ErrNoRows):
		return Rollout{}, fmt.Errorf("create rollout of %s: %s %w", r.Model, r.Environment, ErrLocked)
	case err != nil:
		return Rollout{}, fmt.Errorf("create rollout: %w", err)
	}
	return r, nil
}

// UpdateRollout saves r over the revision r.Revision and returns the row
// at its next revision. Of two writers over the same revision, the second
// finds the revision moved on and changes nothing.
func (s *records) UpdateRollout(ctx context.Context, r Rollout) (Rollout, error) {
	got, err := scanRollout(s.write.QueryRowContext(ctx, `UPDATE rollouts SET state = $1, active = $2, stage = $3,
		traffic_percent = $4, baseline_version = $5, head_sha = $6, installation_id = $7, record = $8,
		revision = revision + 1, updated_at = $9
		WHERE id = $10 AND revision = $11 RETURNING `+rolloutColumns,
		r.State, boolInt(r.Active()), r.Stage, r.TrafficPercent, r.BaselineVersion, r.HeadSHA, r.InstallationID,
		r.Record, dbtime.Millis(s.now()), r.ID, r.Revision))
	switch {
	case err == nil:
		return got, nil
	case isUnique(err):
		return Rollout{}, activeConflict(r)
	case errors.Is(err, sql.ErrNoRows):
		var current int64
		err := s.write.QueryRowContext(ctx, `SELECT revision FROM rollouts WHERE id = $1`, r.ID).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Rollout{}, fmt.Errorf("update rollout %d: read revision: %w", r.ID, err)
		}
		return Rollout{}, staleRollout(r, current, err == nil)
	default:
		return Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
	}
}

// GetRollout returns one rollout by id.
func (s *records) GetRollout(ctx context.Context, id int64) (Rollout, error) {
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
func (s *records) ListRollouts(ctx context.Context, f RolloutFilter) ([]Rollout, error) {
	w := &where{}
	w.add("repo =", f.Repo, f.Repo != "")
	w.add("pr =", f.PR, f.PR != 0)
	w.add("model =", f.Model, f.Model != "")
	w.add("environment =", f.Environment, f.Environment != "")
	w.add("active =", 1, f.ActiveOnly)
	w.in("state", f.States)
	return s.queryRollouts(ctx, w.sql+" ORDER BY id DESC LIMIT "+itoa(limitOr(f.Limit, 100)), w.args...)
}

// CountRollouts counts the rollouts in each state.
func (s *records) CountRollouts(ctx context.Context) (map[RolloutState]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT state, count(*) FROM rollouts GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count rollouts: %w", err)
	}
	defer rows.Close()
	out := map[RolloutState]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count rollouts: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count rollouts: %w", err)
	}
	return out, nil
}

func (s *records) queryRollouts(ctx context.Context, where string, args ...any) ([]Rollout, error) {
	return listSQL(ctx, s.read, "list rollouts", scanRollout, `SELECT `+rolloutColumns+` FROM rollouts `+where, args...)
}

// PutStage inserts or replaces a rollout's stage.
func (s *records) PutStage(ctx context.Context, st Stage) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO stages (rollout_id, idx, traffic_percent, deployment_id, state,
		verdict, started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (rollout_id, idx) DO UPDATE SET traffic_percent = excluded.traffic_percent,
		deployment_id = excluded.deployment_id, state = excluded.state, verdict = excluded.verdict,
		started_at = excluded.started_at, finished_at = excluded.finished_at`,
		st.RolloutID, st.Index, st.TrafficPercent, st.DeploymentID, st.State, st.Verdict, dbtime.Millis(st.StartedAt), dbtime.Millis(st.FinishedAt))
	if err != nil {
		return fmt.Errorf("put stage %d of rollout %d: %w", st.Index, st.RolloutID, err)
	}
	return nil
}

// ListStages returns a rollout's stages in order.
func (s *records) ListStages(ctx context.Context, rolloutID int64) ([]Stage, error) {
	return listSQL(ctx, s.read, fmt.Sprintf("list stages of rollout %d", rolloutID), scanStage,
		`SELECT `+stageColumns+` FROM stages WHERE rollout_id = $1 ORDER BY idx`, rolloutID)
}

// UnlockEnvironment releases a lock; ErrNotFound when there was none.
func (s *records) UnlockEnvironment(ctx context.Context, repo, environment string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM locks WHERE repo = $1 AND environment = $2`, repo, environment)
	if err != nil {
		return fmt.Errorf("unlock %s: %w", environment, err)
	}
	return mustChange(res, "unlock "+environment)
}

// ListLocks returns a repository's locks.
func (s *records) ListLocks(ctx context.Context, repo string) ([]Lock, error) {
	return listSQL(ctx, s.read, "list locks", scanLock,
		`SELECT `+lockColumns+` FROM locks WHERE repo = $1 ORDER BY environment`, repo)
}

// lockHeld is LockEnvironment's answer when l's environment is locked already.
func lockHeld(held Lock) (Lock, error) {
	return held, fmt.Errorf("lock %s: %w by %s", held.Environment, ErrLocked, held.LockedBy)
}

// AppendAudit adds an entry to the audit log.
func (s *records) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	var id int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO audit (at, actor, action, repo, pr, model, environment,
		decision, reason, delivery_id, rollout_id, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		dbtime.Millis(e.At), e.Actor, e.Action, e.Repo, e.PR, e.Model, e.Environment, e.Decision, e.Reason, e.DeliveryID,
		e.RolloutID, e.Details).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("append audit: %w", err)
	}
	return id, nil
}

// ListAudit returns the entries f selects, oldest first.
func (s *records) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	w := &where{}
	w.add("at >=", dbtime.Millis(f.Since), true)
	w.add("repo =", f.Repo, f.Repo != "")
	w.add("pr =", f.PR, f.PR != 0)
	w.add("model =", f.Model, f.Model != "")
	w.add("environment =", f.Environment, f.Environment != "")
	w.add("rollout_id =", f.RolloutID, f.RolloutID != 0)
	w.add("delivery_id =", f.DeliveryID, f.DeliveryID != "")
	return listSQL(ctx, s.read, "list audit", scanAudit,
		`SELECT `+auditColumns+` FROM audit `+w.sql+` ORDER BY id LIMIT `+itoa(limitOr(f.Limit, 1000)), w.args...)
}

// where builds a WHERE clause with numbered placeholders.
type where struct {
	sql  string
	args []any
}

// add appends "cond $n" for v when when holds, cond ending in its
// operator ("repo =").
func (w *where) add(cond string, v any, when bool) {
	if when {
		w.and(cond + " " + w.arg(v))
	}
}

// in adds "column IN (vs...)" unless vs is empty.
func (w *where) in(column string, vs []string) {
	if len(vs) == 0 {
		return
	}
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = w.arg(v)
	}
	w.and(column + " IN (" + strings.Join(ps, ", ") + ")")
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) and(cond string) {
	if w.sql == "" {
		w.sql = "WHERE " + cond
		return
	}
	w.sql += " AND " + cond
}

// mustChange turns a statement that changed no row into ErrNotFound.
func mustChange(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// isUnique reports whether err is a unique index refusing a row, in
// either database.
func isUnique(err error) bool {
	var se *sqlite.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &se):
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	case errors.As(err, &pe):
		return pe.Code == "23505"
	}
	return false
}

func itoa(v int) string { return strconv.Itoa(v) }

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
