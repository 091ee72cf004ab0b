package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
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

// checkSchema compares the migrations recorded in db with those embedded
// in this version.
func checkSchema(ctx context.Context, db *sql.DB, migrations fs.FS, glob string) error {
	names, err := fs.Glob(migrations, glob)
	if err != nil {
		return err
	}
	applied := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("not a modelgate store (no schema_migrations table): %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		applied[name] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range names {
		if !applied[name] {
			return fmt.Errorf("the schema is older than this tool (%s is not applied): run the bot of this version once, or an older tool", path.Base(name))
		}
		delete(applied, name)
	}
	for name := range applied {
		return fmt.Errorf("the schema is newer than this tool (%s is applied): use the version of the bot that wrote it", path.Base(name))
	}
	return nil
}

// IsPostgresURL reports whether dsn names a PostgreSQL database.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
