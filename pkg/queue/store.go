package queue

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelgate/modelgate/internal/dbtime"
)

// Store keeps the jobs in the bot's database, SQLite or PostgreSQL, whose
// schema (queue_jobs, queue_payloads) the bot's store migrates. Both run
// the same SQL through database/sql, but for the claim: PostgreSQL's skips
// rows other replicas are claiming. In SQLite, every write that a worker
// or the webhook intake waits for shares a group commit.
type Store struct {
	write *sql.DB // SQLite: its one writer connection
	read  *sql.DB // SQLite: a pool of readers; PostgreSQL: write again
	now   func() time.Time
	claim claimFunc
	// do makes a change durable: SQLite's in the next group commit (the
	// batcher), PostgreSQL's in a statement or transaction of its own.
	do    func(ctx context.Context, c change) (changed, error)
	batch *batcher // SQLite's
}

// claimFunc is a database's claim: it leases up to limit jobs of queue
// that are due at now.
type claimFunc func(ctx context.Context, s *Store, queue string, now time.Time, limit int, l Lease) ([]Job, error)

// Options tune a Store; the zero value is sensible.
type Options struct {
	// Now is the clock of the store's own records (creation and
	// completion times); time.Now when nil. Due times and leases are the
	// caller's.
	Now func() time.Time
	// MaxBatch bounds how many writes share one SQLite transaction; 256
	// when zero.
	MaxBatch int
}

// NewSQLite serves the queue from a SQLite database: write is its one
// writer connection, read a pool of readers. Close it before them.
func NewSQLite(write, read *sql.DB, opts Options) *Store {
	s := newStore(write, read, opts, claimSQLite)
	s.batch = newBatcher(s, cmpOr(opts.MaxBatch, 256))
	s.do = s.batch.do
	return s
}

// NewPostgres serves the queue from a PostgreSQL database, which several
// replicas may share: PostgreSQL commits concurrent transactions together,
// so each write is its own.
func NewPostgres(db *sql.DB, opts Options) *Store {
	s := newStore(db, db, opts, claimPostgres)
	s.do = s.doPostgres
	return s
}

func newStore(write, read *sql.DB, opts Options, claim claimFunc) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{write: write, read: read, now: opts.Now, claim: claim}
}

// Close waits for the writes in flight; later ones fail.
func (s *Store) Close() error {
	if s.batch != nil {
		s.batch.close()
	}
	return nil
}

// Add stores j, pending at j.DueAt (now when zero), unless its queue
// holds a job Add stored under j.Key already: a webhook redelivered is not
// stored twice, even long after the first was done. inserted says whether
// j was new; Add returns once it is durable.
func (s *Store) Add(ctx context.Context, j Job) (inserted bool, err error) {
	_, inserted, err = s.add(ctx, j, Lease{})
	return inserted, err
}

// AddLeased is Add for a job the caller keeps in memory and runs itself:
// it is stored running, its first attempt leased to l.Worker, under the id
// it returns. Should that worker die, the lease runs out and any worker
// claims it.
func (s *Store) AddLeased(ctx context.Context, j Job, l Lease) (id int64, inserted bool, err error) {
	if l.Worker == "" {
		return 0, false, fmt.Errorf("add job %s/%s: a lease without a worker", j.Queue, j.Key)
	}
	return s.add(ctx, j, l)
}

func (s *Store) add(ctx context.Context, j Job, l Lease) (int64, bool, error) {
	if j.Queue == "" || j.Kind == "" || j.Key == "" {
		return 0, false, fmt.Errorf("add job %q/%q/%q: queue, kind and key are required", j.Queue, j.Kind, j.Key)
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.now()
	}
	if j.DueAt.IsZero() {
		j.DueAt = j.CreatedAt
	}
	r, err := s.do(ctx, change{add: &j, lease: l})
	if err != nil {
		return 0, false, fmt.Errorf("add job %s/%s: %w", j.Queue, j.Key, err)
	}
	return r.id, r.id != 0, nil
}

// Schedule stores j, pending at j.DueAt, or moves the pending job of its
// queue, kind and key to j's due time and payload; it returns the job's id.
// A job of that kind and key that is running goes on: the pending one waits
// for it (see Claim).
func (s *Store) Schedule(ctx context.Context, j Job) (int64, error) {
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO queue_jobs (queue, kind, key, state, due_at, created_at)
			VALUES ($1, $2, $3, 'pending', $4, $5)
			ON CONFLICT (queue, kind, key) WHERE state = 'pending' AND once = 0 DO UPDATE SET due_at = excluded.due_at
			RETURNING id`, j.Queue, j.Kind, j.Key, dbtime.Millis(j.DueAt), dbtime.Millis(s.now())).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO queue_payloads (id, payload) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET payload = excluded.payload`, id, nonNil(j.Payload))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("schedule job %s/%s/%s: %w", j.Queue, j.Kind, j.Key, err)
	}
	return id, nil
}

// Cancel deletes the pending jobs of a queue's kind and key and says how
// many there were; a running one finishes.
func (s *Store) Cancel(ctx context.Context, queue, kind, key string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		const pending = `queue = $1 AND kind = $2 AND key = $3 AND state = 'pending'`
		_, err := tx.ExecContext(ctx, `DELETE FROM queue_payloads WHERE id IN (SELECT id FROM queue_jobs WHERE `+pending+`)`,
			queue, kind, key)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM queue_jobs WHERE `+pending, queue, kind, key)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cancel jobs %s/%s/%s: %w", queue, kind, key, err)
	}
	return int(n), nil
}

// Claim leases to l.Worker up to limit jobs of queue that are free at
// now, pending ones that are due and running ones whose lease ran out,
// earliest first, each with its attempt counted. Jobs of one kind and key
// never run at once: a pending job whose twin is running waits, even when
// the twin's lease ran out (it is claimed again first).
func (s *Store) Claim(ctx context.Context, queue string, now time.Time, limit int, l Lease) ([]Job, error) {
	if l.Worker == "" || limit <= 0 {
		return nil, fmt.Errorf("claim jobs of %s: a worker and a limit are required", queue)
	}
	jobs, err := s.claim(ctx, s, queue, now, limit, l)
	if err != nil {
		return nil, fmt.Errorf("claim jobs of %s: %w", queue, err)
	}
	slices.SortFunc(jobs, cmpJobs)
	return jobs, nil
}

// Extend renews the leases on jobs ids that l.Worker holds, to l.Until;
// lost lists those it no longer holds (another worker claimed them after
// the lease ran out, or they are finished), whose work the worker must
// stop.
func (s *Store) Extend(ctx context.Context, ids []int64, l Lease) (lost []int64, err error) {
	if len(ids) == 0 {
		return nil, nil
	}
	r, err := s.do(ctx, change{extend: ids, lease: l})
	if err != nil {
		return nil, fmt.Errorf("extend leases of %s: %w", l.Worker, err)
	}
	return r.lost, nil
}

// Complete records the outcomes of jobs worker holds. Outcomes of jobs
// whose lease passed to another worker change nothing: the error lists
// them and wraps ErrLeaseLost, and the others are recorded.
func (s *Store) Complete(ctx context.Context, worker string, outcomes []Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	r, err := s.do(ctx, change{outcomes: outcomes, lease: Lease{Worker: worker}})
	if err != nil {
		return fmt.Errorf("complete jobs: %w", err)
	}
	if len(r.lost) > 0 {
		return fmt.Errorf("complete jobs %v as %s: %w", r.lost, worker, ErrLeaseLost)
	}
	return nil
}

// Get returns the job Add stored under key in queue.
func (s *Store) Get(ctx context.Context, queue, key string) (Job, error) {
	jobs, err := s.list(ctx, `WHERE j.queue = $1 AND j.key = $2 AND j.once = 1`, queue, key)
	if err != nil {
		return Job{}, fmt.Errorf("get job %s/%s: %w", queue, key, err)
	}
	if len(jobs) == 0 {
		return Job{}, fmt.Errorf("job %s/%s: %w", queue, key, ErrNotFound)
	}
	return jobs[0], nil
}

// Stats counts a queue's jobs by state.
func (s *Store) Stats(ctx context.Context, queue string) (Stats, error) {
	st := Stats{ByState: map[State]int{}}
	rows, err := s.read.QueryContext(ctx, `SELECT state, count(*) FROM queue_jobs WHERE queue = $1 GROUP BY state`, queue)
	if err != nil {
		return st, fmt.Errorf("stats of %s: %w", queue, err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return st, fmt.Errorf("stats of %s: %w", queue, err)
		}
		st.ByState[State(state)] = n
		st.Total += n
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("stats of %s: %w", queue, err)
	}
	var oldest sql.NullInt64
	err = s.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM queue_jobs WHERE queue = $1 AND completions > 1),
		(SELECT min(created_at) FROM queue_jobs WHERE queue = $1 AND state IN ('pending', 'running'))`, queue).
		Scan(&st.CompletedTwice, &oldest)
	if err != nil {
		return st, fmt.Errorf("stats of %s: %w", queue, err)
	}
	if oldest.Valid {
		st.OldestPendingAge = s.now().Sub(dbtime.FromMillis(oldest.Int64))
	}
	return st, nil
}

// Holders counts the running jobs of every queue by the worker whose lease
// holds them, for a soak to see when a dead worker's jobs are taken over.
func (s *Store) Holders(ctx context.Context) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT lease_owner, count(*) FROM queue_jobs WHERE state = 'running' GROUP BY lease_owner`)
	if err != nil {
		return nil, fmt.Errorf("lease holders: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var owner string
		var n int
		if err := rows.Scan(&owner, &n); err != nil {
			return nil, fmt.Errorf("lease holders: %w", err)
		}
		out[owner] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lease holders: %w", err)
	}
	return out, nil
}

// Backlog is the jobs of one kind waiting in a queue.
type Backlog struct {
	Queue, Kind string
	// Pending jobs wait, Running ones are leased; Due of the pending are
	// past their due time, the oldest of them since OldestDue.
	Pending, Running, Due int
	OldestDue             time.Duration
}

// Backlogs lists the waiting and running jobs of every queue by kind, for
// the metrics.
func (s *Store) Backlogs(ctx context.Context) ([]Backlog, error) {
	now := s.now()
	rows, err := s.read.QueryContext(ctx, `SELECT queue, kind,
		sum(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), sum(CASE WHEN state = 'running' THEN 1 ELSE 0 END),
		sum(CASE WHEN state = 'pending' AND due_at <= $1 THEN 1 ELSE 0 END),
		min(CASE WHEN state = 'pending' AND due_at <= $1 THEN due_at END)
		FROM queue_jobs WHERE state IN ('pending', 'running') GROUP BY queue, kind ORDER BY queue, kind`, dbtime.Millis(now))
	if err != nil {
		return nil, fmt.Errorf("backlogs: %w", err)
	}
	defer rows.Close()
	var out []Backlog
	for rows.Next() {
		var b Backlog
		var oldest sql.NullInt64
		if err := rows.Scan(&b.Queue, &b.Kind, &b.Pending, &b.Running, &b.Due, &oldest); err != nil {
			return nil, fmt.Errorf("backlogs: %w", err)
		}
		if oldest.Valid {
			b.OldestDue = max(now.Sub(dbtime.FromMillis(oldest.Int64)), 0)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("backlogs: %w", err)
	}
	return out, nil
}

// list reads the jobs where selects, with their payloads, newest first.
func (s *Store) list(ctx context.Context, where string, args ...any) ([]Job, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+jobColumns("j.")+`, p.payload FROM queue_jobs j
		LEFT JOIN queue_payloads p ON p.id = j.id `+where+` ORDER BY j.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	return scanJobs(rows, true)
}

// inTx runs fn in a write transaction.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// loadPayloads fills in the payloads of jobs just claimed.
func loadPayloads(ctx context.Context, tx *sql.Tx, jobs []Job) error {
	if len(jobs) == 0 {
		return nil
	}
	ids := make([]any, len(jobs))
	index := make(map[int64]int, len(jobs))
	for i, j := range jobs {
		ids[i], index[j.ID] = j.ID, i
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, payload FROM queue_payloads WHERE id IN (`+placeholders(1, len(ids))+`)`, ids...)
	if err != nil {
		return fmt.Errorf("payloads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var payload []byte
		if err := rows.Scan(&id, &payload); err != nil {
			return fmt.Errorf("payloads: %w", err)
		}
		jobs[index[id]].Payload = payload
	}
	return rows.Err()
}

// jobColumns are what scanJob reads, each prefixed (a table's alias).
func jobColumns(prefix string) string {
	cols := []string{"id", "queue", "kind", "key", "state", "due_at", "attempts", "completions", "last_error",
		"created_at", "done_at"}
	for i, c := range cols {
		cols[i] = prefix + c
	}
	return strings.Join(cols, ", ")
}

type scanner interface {
	Scan(dest ...any) error
}

// scanJob reads the jobColumns of a row, and its payload into payload
// when that is not nil.
func scanJob(row scanner, payload *[]byte) (Job, error) {
	var j Job
	var state string
	var due, created, done int64
	dest := []any{&j.ID, &j.Queue, &j.Kind, &j.Key, &state, &due, &j.Attempts, &j.Completions, &j.LastError,
		&created, &done}
	if payload != nil {
		dest = append(dest, payload)
	}
	if err := row.Scan(dest...); err != nil {
		return Job{}, err
	}
	j.State = State(state)
	j.DueAt, j.CreatedAt, j.DoneAt = dbtime.FromMillis(due), dbtime.FromMillis(created), dbtime.FromMillis(done)
	if payload != nil {
		j.Payload = *payload
	}
	return j, nil
}

// collect reads the one int64 column of rows.
func collect(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// placeholders returns "$from, $from+1, …" for n values.
func placeholders(from, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(ps, ", ")
}

// cmpJobs orders jobs as a claim hands them out: oldest first.
func cmpJobs(a, b Job) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
