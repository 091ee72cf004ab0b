package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

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
	pool *pgxpool.Pool
	now  func() time.Time
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
	s := &Postgres{pool: pool, now: opts.Now}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if opts.ReadOnly {
		db := stdlib.OpenDBFromPool(pool)
		err := checkSchema(ctx, db, postgresMigrations, "migrations/postgres/*.sql")
		db.Close() // the pool stays open
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
		return s, nil
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
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
	s.pool.Close()
	return nil
}

// migrate applies, in name order, every embedded migration not yet
// recorded, holding an advisory lock so that replicas starting together
// take turns: the first applies, the others find it done.
func (s *Postgres) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	// The lock belongs to the session: release it even when ctx is done.
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(postgresMigrations, "migrations/postgres/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.applyMigration(ctx, conn.Conn(), name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (s *Postgres) applyMigration(ctx context.Context, conn *pgx.Conn, name string) error {
	body, err := postgresMigrations.ReadFile(name)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		// Exec without arguments uses the simple protocol, which runs a
		// file of several statements.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, name, ms(s.now()))
		return err
	})
}

// inTx runs fn in a transaction.
func (s *Postgres) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

func isPGUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
