package store

import (
	"context"
	"strings"
)

// Open opens the store dsn names: a postgres:// (or postgresql://) URL is a
// PostgreSQL database several replicas may share; anything else is the path
// of a SQLite file for one replica.
func Open(ctx context.Context, dsn string) (Store, error) {
	// Return a nil interface, not a typed nil, on error.
	if IsPostgresURL(dsn) {
		s, err := OpenPostgres(ctx, dsn, PostgresOptions{})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := OpenSQLite(ctx, dsn, SQLiteOptions{})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenReader opens the store dsn names only to read it, as `bot history`
// and `action inventory --live` do: it never migrates the bot's schema,
// and refuses one older or newer than this version's, or a database that
// is not a modelgate store.
func OpenReader(ctx context.Context, dsn string) (Store, error) {
	if IsPostgresURL(dsn) {
		s, err := OpenPostgres(ctx, dsn, PostgresOptions{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := OpenSQLite(ctx, dsn, SQLiteOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// IsPostgresURL reports whether dsn names a PostgreSQL database.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
