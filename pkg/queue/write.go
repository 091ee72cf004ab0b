package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/modelgate/modelgate/internal/dbtime"
)

// change is one caller's write: a job to add (under lease, when it has a
// worker), outcomes to record, or leases to extend.
type change struct {
	add      *Job
	outcomes []Outcome
	extend   []int64
	lease    Lease
}

type changed struct {
	id   int64 // of the job added; 0 when its key was taken
	lost []int64
}

// querier runs statements: a database, or a transaction in it.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// doPostgres makes c durable on its own: an addition is one statement,
// and so are lease renewals and successes, which PostgreSQL commits each
// with the others that arrive meanwhile; failures take a transaction.
func (s *Store) doPostgres(ctx context.Context, c change) (changed, error) {
	now := dbtime.Millis(s.now())
	switch {
	case c.add != nil:
		id, err := insertPostgres(ctx, s.write, *c.add, c.lease)
		return changed{id: id}, err
	case c.extend != nil:
		lost, err := extend(ctx, s.write, c.extend, c.lease)
		return changed{lost: lost}, err
	case !slices.ContainsFunc(c.outcomes, func(o Outcome) bool { return o.Err != nil }):
		lost, err := complete(ctx, s.write, succeedAll(s.write), c.lease.Worker, c.outcomes, now)
		return changed{lost: lost}, err
	}
	var lost []int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		lost, err = complete(ctx, tx, succeedAll(tx), c.lease.Worker, c.outcomes, now)
		return err
	})
	return changed{lost: lost}, err
}

// insertPostgres stores j and its payload in one statement unless a job
// added under its key is known, and returns its id (0 when known).
func insertPostgres(ctx context.Context, q querier, j Job, l Lease) (int64, error) {
	state, due, attempts := initial(j, l)
	var id int64
	err := q.QueryRowContext(ctx, `WITH fresh AS (
			INSERT INTO queue_jobs (queue, kind, key, once, state, due_at, attempts, lease_owner, created_at)
			VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id),
		payload AS (INSERT INTO queue_payloads (id, payload) SELECT id, $9 FROM fresh)
		SELECT id FROM fresh`,
		j.Queue, j.Kind, j.Key, string(state), dbtime.Millis(due), attempts, l.Worker, dbtime.Millis(j.CreatedAt), nonNil(j.Payload)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// insertSQLite is insertPostgres in two statements, prepared once, in the
// transaction of a group commit, where the connection's last insert is
// this one's.
func insertSQLite(ctx context.Context, tx *sql.Tx, stmts *statements, j Job, l Lease) (int64, error) {
	state, due, attempts := initial(j, l)
	res, err := tx.StmtContext(ctx, stmts.insert).ExecContext(ctx, j.Queue, j.Kind, j.Key, string(state), dbtime.Millis(due),
		attempts, l.Worker, dbtime.Millis(j.CreatedAt))
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, err // the key is taken
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	if _, err := tx.StmtContext(ctx, stmts.payload).ExecContext(ctx, id, nonNil(j.Payload)); err != nil {
		return 0, fmt.Errorf("payload: %w", err)
	}
	return id, nil
}

// initial is how a job added under l starts: pending when due, or (with a
// worker) running its first attempt, free to claim when the lease ends.
func initial(j Job, l Lease) (State, time.Time, int) {
	if l.Worker != "" {
		return Running, l.Until, 1
	}
	return Pending, j.DueAt, 0
}

// extend renews the leases on ids that l.Worker holds and returns the
// ids it does not hold.
func extend(ctx context.Context, q querier, ids []int64, l Lease) ([]int64, error) {
	args := []any{dbtime.Millis(l.Until), l.Worker}
	for _, id := range ids {
		args = append(args, id)
	}
	held, err := collect(q.QueryContext(ctx, `UPDATE queue_jobs SET due_at = $1
		WHERE lease_owner = $2 AND state = 'running' AND id IN (`+placeholders(3, len(ids))+`) RETURNING id`, args...))
	return missing(ids, held), err
}

// succeed records successes of jobs worker holds, at now (ms), and
// returns the ids of those it holds.
type succeed func(ctx context.Context, worker string, ids []int64, now int64) (held []int64, err error)

// succeedAll records successes in one statement.
func succeedAll(q querier) succeed {
	return func(ctx context.Context, worker string, ids []int64, now int64) ([]int64, error) {
		args := []any{now, worker}
		for _, id := range ids {
			args = append(args, id)
		}
		return collect(q.QueryContext(ctx, `UPDATE queue_jobs SET state = 'done', completions = completions + 1,
			done_at = $1, last_error = '', lease_owner = ''
			WHERE lease_owner = $2 AND state = 'running' AND id IN (`+placeholders(3, len(ids))+`) RETURNING id`, args...))
	}
}

// succeedEach records successes one by one with a statement prepared
// once, which in SQLite costs less than parsing a statement per group.
func succeedEach(tx *sql.Tx, done *sql.Stmt) succeed {
	return func(ctx context.Context, worker string, ids []int64, now int64) ([]int64, error) {
		stmt := tx.StmtContext(ctx, done)
		var held []int64
		for _, id := range ids {
			res, err := stmt.ExecContext(ctx, now, id, worker)
			if err != nil {
				return nil, err
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				held = append(held, id)
			}
		}
		return held, nil
	}
}

// complete records outcomes of jobs worker holds, at now (ms), successes
// with ok, and returns the ids of those it does not hold.
func complete(ctx context.Context, q querier, ok succeed, worker string, outcomes []Outcome, now int64) ([]int64, error) {
	var done []int64
	for _, o := range outcomes {
		if o.Err == nil {
			done = append(done, o.ID)
		}
	}
	var lost []int64
	if len(done) > 0 {
		held, err := ok(ctx, worker, done, now)
		if err != nil {
			return nil, fmt.Errorf("record successes: %w", err)
		}
		lost = missing(done, held)
	}
	for _, o := range outcomes {
		var res sql.Result
		var err error
		switch {
		case o.Err == nil:
			continue
		case o.RetryAt.IsZero():
			res, err = fail(ctx, q, o, worker, now)
		default:
			res, err = retry(ctx, q, o, worker, now)
		}
		if err != nil {
			return nil, fmt.Errorf("outcome of job %d: %w", o.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			lost = append(lost, o.ID)
		}
	}
	return lost, nil
}

func fail(ctx context.Context, q querier, o Outcome, worker string, now int64) (sql.Result, error) {
	return q.ExecContext(ctx, `UPDATE queue_jobs SET state = 'failed', done_at = $1, last_error = $2, lease_owner = ''
		WHERE id = $3 AND lease_owner = $4 AND state = 'running'`, now, o.Err.Error(), o.ID, worker)
}

// retry puts a failed job back, pending at o.RetryAt. When its kind and
// key have a pending job already, scheduled while it ran, that one stands
// for both, at its own time (a later look of an analysis, a newer outbox),
// and this run is failed.
func retry(ctx context.Context, q querier, o Outcome, worker string, now int64) (sql.Result, error) {
	var twins int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM queue_jobs t JOIN queue_jobs r
		ON r.queue = t.queue AND r.kind = t.kind AND r.key = t.key
		WHERE r.id = $1 AND r.once = 0 AND t.state = 'pending' AND t.once = 0`, o.ID).Scan(&twins)
	if err != nil {
		return nil, err
	}
	if twins > 0 {
		return fail(ctx, q, o, worker, now)
	}
	return q.ExecContext(ctx, `UPDATE queue_jobs SET state = 'pending', due_at = $1, last_error = $2, lease_owner = ''
		WHERE id = $3 AND lease_owner = $4 AND state = 'running'`, dbtime.Millis(o.RetryAt), o.Err.Error(), o.ID, worker)
}

// missing returns the ids that are not in got.
func missing(ids, got []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if !slices.Contains(got, id) {
			out = append(out, id)
		}
	}
	return out
}

// statements are SQLite's hot path, prepared once: parsing a statement
// again for every group commit cost more than running it row by row.
type statements struct {
	insert, payload, done *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (*statements, error) {
	var st statements
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&st.insert, `INSERT INTO queue_jobs (queue, kind, key, once, state, due_at, attempts, lease_owner, created_at)
			VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`},
		{&st.payload, `INSERT INTO queue_payloads (id, payload) VALUES ($1, $2)`},
		{&st.done, `UPDATE queue_jobs SET state = 'done', completions = completions + 1, done_at = $1,
			last_error = '', lease_owner = '' WHERE id = $2 AND lease_owner = $3 AND state = 'running'`},
	} {
		stmt, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.stmt = stmt
	}
	return &st, nil
}

func (st *statements) close() {
	for _, s := range []*sql.Stmt{st.insert, st.payload, st.done} {
		if s != nil {
			s.Close()
		}
	}
}
