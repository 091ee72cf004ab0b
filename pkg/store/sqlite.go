package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// SQLiteOptions tune the SQLite store; the zero value is sensible.
type SQLiteOptions struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxBatch bounds how many delivery inserts share one transaction.
	MaxBatch int
	// ReadOnly opens a bot's store to read it: no migration, no
	// checkpoints; the schema must already be this version's.
	ReadOnly bool
}

// SQLite is the Store in an embedded SQLite file (WAL, one writer
// connection, group commit for the webhook queue).
type SQLite struct {
	write *sql.DB // one connection: SQLite has one writer at a time anyway
	read  *sql.DB
	now   func() time.Time
	batch *batcher
	stop  chan struct{}
	done  chan struct{}

	closeOnce sync.Once
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if need be) the database file at path and
// brings its schema up to date.
func OpenSQLite(ctx context.Context, path string, opts SQLiteOptions) (*SQLite, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
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
	s := &SQLite{write: write, read: read, now: opts.Now}
	s.batch = newBatcher(write, opts.MaxBatch)
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	if opts.ReadOnly {
		close(s.done) // no checkpoints: a reader writes nothing
		if err := checkSchema(ctx, read, sqliteMigrations, "migrations/sqlite/*.sql"); err != nil {
			s.Close()
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
		return s, nil
	}
	if err := s.migrate(ctx); err != nil {
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

// Close flushes pending inserts and closes the database.
func (s *SQLite) Close() error {
	s.batch.close()
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
	return s.closeDBs()
}

func (s *SQLite) closeDBs() error {
	return errors.Join(s.write.Close(), s.read.Close())
}

// migrate applies, in name order, every embedded migration not yet recorded.
func (s *SQLite) migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(sqliteMigrations, "migrations/sqlite/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.applyMigration(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (s *SQLite) applyMigration(ctx context.Context, name string) error {
	body, err := sqliteMigrations.ReadFile(name)
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
		name, ms(s.now())); err != nil {
		return err
	}
	return tx.Commit()
}

// inTx runs fn in a write transaction.
func (s *SQLite) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
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

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func itoa(v int) string { return strconv.Itoa(v) }
