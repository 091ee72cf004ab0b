package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrationLock is the advisory lock key under which replicas migrate, one
// at a time ("modelgat" in ASCII).
const migrationLock int64 = 0x6d6f64656c676174

// jobClaimLock is the advisory lock key under which replicas claim jobs,
// one at a time ("modeljob" in ASCII).
const jobClaimLock int64 = 0x6d6f64656c6a6f62

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
// share: delivery claims skip rows another replica holds (FOR UPDATE SKIP
// LOCKED), job claims take turns, and uniqueness (one active rollout, one lock per environment) is decided
// by the database's indexes inside one statement.
type Postgres struct {
	records // through database/sql on pool
	pool    *pgxpool.Pool
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
	s := &Postgres{records: records{write: db, read: db, now: opts.Now}, pool: pool}
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
	err := s.write.Close() // the pool's database/sql face; the pool stays open
	s.pool.Close()
	return err
}

// inTx runs fn in a transaction.
func (s *Postgres) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}
