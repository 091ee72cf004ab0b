package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/modelgate/modelgate/internal/dbtime"
	"github.com/modelgate/modelgate/pkg/queue"
)

// migrationLock is the advisory lock key under which replicas migrate, one
// at a time ("modelgat" in ASCII).
const migrationLock int64 = 0x6d6f64656c676174

// PostgresOptions tune the PostgreSQL store; the zero value is sensible.
type PostgresOptions struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxConns bounds the connection pool; pgx's default when zero.
	MaxConns int32
	// ReadOnly opens the bot's database to read it: no migration; the
	// schema must already be this version's.
	ReadOnly bool
}

// Postgres is the Store in a PostgreSQL database that several replicas
// share: the queue's claims skip rows another replica holds (FOR UPDATE
// SKIP LOCKED), and uniqueness (one active rollout, one lock per
// environment, one running job per kind and key) is decided by the
// database's indexes inside one statement.
type Postgres struct {
	records // through database/sql on pool
	jobs
	pool *pgxpool.Pool
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the database at dsn (a postgres:// URL) and
// brings its schema up to date.
func OpenPostgres(ctx context.Context, dsn string, opts PostgresOptions) (*Postgres, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse postgres url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	s := &Postgres{records: records{write: db, read: db, now: opts.Now},
		jobs: jobs{queue.NewPostgres(db, queue.Options{Now: opts.Now})}, pool: pool}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if opts.ReadOnly {
		if err := checkSchema(ctx, db, postgresDialect()); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
		return s, nil
	}
	if err := migrate(ctx, db, postgresDialect()); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate postgres: %w", err)
	}
	return s, nil
}

// Ping checks that the database answers.
func (s *Postgres) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to come back.
func (s *Postgres) Close() error {
	s.queue.Close()
	err := s.write.Close() // the pool's database/sql face; the pool stays open
	s.pool.Close()
	return err
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
	err := s.write.QueryRowContext(ctx, `INSERT INTO locks AS l (repo, environment, reason, locked_by, locked_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (repo, environment) DO UPDATE SET locked_by = l.locked_by
		RETURNING l.reason, l.locked_by, l.locked_at, l.xmax = 0`,
		l.Repo, l.Environment, l.Reason, l.LockedBy, dbtime.Millis(l.LockedAt)).Scan(&held.Reason, &held.LockedBy, &at, &inserted)
	if err != nil {
		return Lock{}, fmt.Errorf("lock %s: %w", l.Environment, err)
	}
	if inserted {
		return l, nil
	}
	held.LockedAt = dbtime.FromMillis(at)
	return lockHeld(held)
}
