package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/modelgate/modelgate/internal/dbtime"
)

// The column lists and row scanners both backends share: their tables are
// the same, and *sql.Rows and pgx.Rows both Scan.

const (
	commandColumns = `id, delivery_id, repo, pr, comment_id, commenter, name, args,
		state, outcome, api_calls, created_at, updated_at`
	rolloutColumns = `id, repo, pr, model, version, baseline_version, environment,
		head_sha, state, stage, traffic_percent, plan, started_by, installation_id, record, revision,
		created_at, updated_at`
	stageColumns = `rollout_id, idx, traffic_percent, deployment_id, state, verdict, started_at, finished_at`
	lockColumns  = `repo, environment, reason, locked_by, locked_at`
	auditColumns = `id, at, actor, action, repo, pr, model, environment, decision,
		reason, delivery_id, rollout_id, details`
)

// scanner is a row of either driver.
type scanner interface {
	Scan(dest ...any) error
}

func scanCommand(row scanner) (Command, error) {
	var c Command
	var created, updated int64
	err := row.Scan(&c.ID, &c.DeliveryID, &c.Repo, &c.PR, &c.CommentID, &c.Commenter, &c.Name, &c.Args,
		&c.State, &c.Outcome, &c.APICalls, &created, &updated)
	c.CreatedAt, c.UpdatedAt = dbtime.FromMillis(created), dbtime.FromMillis(updated)
	return c, err
}

func scanRollout(row scanner) (Rollout, error) {
	var r Rollout
	var created, updated int64
	err := row.Scan(&r.ID, &r.Repo, &r.PR, &r.Model, &r.Version, &r.BaselineVersion, &r.Environment,
		&r.HeadSHA, &r.State, &r.Stage, &r.TrafficPercent, &r.Plan, &r.StartedBy, &r.InstallationID, &r.Record,
		&r.Revision, &created, &updated)
	r.CreatedAt, r.UpdatedAt = dbtime.FromMillis(created), dbtime.FromMillis(updated)
	return r, err
}

func scanStage(row scanner) (Stage, error) {
	var st Stage
	var started, finished int64
	err := row.Scan(&st.RolloutID, &st.Index, &st.TrafficPercent, &st.DeploymentID, &st.State, &st.Verdict, &started, &finished)
	st.StartedAt, st.FinishedAt = dbtime.FromMillis(started), dbtime.FromMillis(finished)
	st.State = canonicalStage(st.State)
	return st, err
}

func scanLock(row scanner) (Lock, error) {
	var l Lock
	var at int64
	err := row.Scan(&l.Repo, &l.Environment, &l.Reason, &l.LockedBy, &at)
	l.LockedAt = dbtime.FromMillis(at)
	return l, err
}

func scanAudit(row scanner) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	err := row.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Repo, &e.PR, &e.Model, &e.Environment, &e.Decision,
		&e.Reason, &e.DeliveryID, &e.RolloutID, &e.Details)
	e.At = dbtime.FromMillis(at)
	return e, err
}

// collectSQL scans every row of a database/sql result.
func collectSQL[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// listSQL runs a query on db and scans every row; what names the list in
// errors ("list locks").
func listSQL[T any](ctx context.Context, db *sql.DB, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := collectSQL(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
