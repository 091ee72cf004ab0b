package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/modelgate/modelgate/internal/dbtime"
	"github.com/modelgate/modelgate/pkg/queue"
	_ "modernc.org/sqlite" // the "sqlite" driver
)

// SQLiteOptions tune the SQLite store; the zero value is sensible.
type SQLiteOptions struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxBatch bounds how many of the queue's writes share one transaction.
	MaxBatch int
	// ReadOnly opens a bot's store to read it: no migration, no
	// checkpoints; the schema must already be this version's.
	ReadOnly bool
}

// SQLite is the Store in an embedded SQLite file (WAL, one writer
// connection, group commit for the queue).
type SQLite struct {
	records // write is one connection: SQLite has one writer at a time anyway
	jobs
	stop chan struct{}
	done chan struct{}

	closeOnce sync.Once
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if need be) the database file at path and
// brings its schema up to date.
func OpenSQLite(ctx context.Context, path string, opts SQLiteOptions) (*SQLite, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	write, err := openDB(path, 1, "immediate")
	if err != nil {
		return nil, err
	}
	read, err := openDB(path, 4, "deferred")
	if err != nil {
		write.Close()
		return nil, err
	}
	s := &SQLite{records: records{write: write, read: read, now: opts.Now},
		jobs: jobs{queue.NewSQLite(write, read, queue.Options{Now: opts.Now, MaxBatch: opts.MaxBatch})}}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	if opts.ReadOnly {
		close(s.done) // no checkpoints: a reader writes nothing
		if err := checkSchema(ctx, read, sqliteDialect()); err != nil {
			s.Close()
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		return s, nil
	}
	if err := migrate(ctx, write, sqliteDialect()); err != nil {
		close(s.done)
		s.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	go s.checkpoints(time.Second)
	return s, nil
}

// checkpoints copies the WAL into the database every interval without
// blocking the writer (PASSIVE), so that commits stay short.
func (s *SQLite) checkpoints(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			s.read.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			return
		case <-t.C:
			s.read.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

func openDB(path string, conns int, txlock string) (*sql.DB, error) {
	q := url.Values{}
	// wal_autocheckpoint(0): a commit never stops to checkpoint; checkpoints
	// runs it in the background on a reader connection instead.
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)", "wal_autocheckpoint(0)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", txlock)
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	return db, nil
}

// Ping checks that the database answers.
func (s *SQLite) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close flushes the queue's pending writes and closes the database.
func (s *SQLite) Close() error {
	s.queue.Close()
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
	return s.closeDBs()
}

func (s *SQLite) closeDBs() error {
	return errors.Join(s.write.Close(), s.read.Close())
}

// LockEnvironment takes l; when already held it returns the holder and ErrLocked.
func (s *SQLite) LockEnvironment(ctx context.Context, l Lock) (Lock, error) {
	if l.LockedAt.IsZero() {
		l.LockedAt = s.now()
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO locks (repo, environment, reason, locked_by, locked_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (repo, environment) DO NOTHING`,
		l.Repo, l.Environment, l.Reason, l.LockedBy, dbtime.Millis(l.LockedAt))
	if err != nil {
		return Lock{}, fmt.Errorf("lock %s: %w", l.Environment, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return l, nil
	}
	locks, err := listSQL(ctx, s.read, "lock "+l.Environment+": read holder", scanLock,
		`SELECT `+lockColumns+` FROM locks WHERE repo = $1 AND environment = $2`, l.Repo, l.Environment)
	if err != nil {
		return Lock{}, err
	}
	if len(locks) == 0 {
		return Lock{}, fmt.Errorf("lock %s: read holder: %w", l.Environment, ErrNotFound)
	}
	return lockHeld(locks[0])
}
