package store

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// The schema is one set of migrations for both databases, Go templates
// that a dialect renders, applied and recorded by goose.

//go:embed migrations/*.sql
var migrationFiles embed.FS

const (
	// versionTable is goose's record of applied migrations.
	versionTable = goose.DefaultTablename
	// legacyTable is where stores of earlier versions named theirs.
	legacyTable = "schema_migrations"
)

// dialect is what the SQL of the two databases differs in.
type dialect struct {
	goose goose.Dialect
	// ID, RowID and Blob are the column types the migrations spell
	// differently: an id the database assigns, a primary key that is the id
	// of another table's row (in SQLite the row's own id, so that it needs
	// no index of its own), and a byte string.
	ID, RowID, Blob string
	// tableExists asks whether the table named $1 exists.
	tableExists string
	// locker makes replicas that start together migrate one at a time;
	// nil where there is one replica.
	locker lock.SessionLocker
}

func sqliteDialect() dialect {
	return dialect{goose: goose.DialectSQLite3, ID: "INTEGER PRIMARY KEY", RowID: "INTEGER PRIMARY KEY", Blob: "BLOB",
		tableExists: `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = $1`}
}

func postgresDialect() dialect {
	return dialect{goose: goose.DialectPostgres, ID: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
		RowID: "BIGINT PRIMARY KEY", Blob: "BYTEA",
		tableExists: `SELECT to_regclass($1) IS NOT NULL`, locker: advisoryLock{key: migrationLock}}
}

// migration is one embedded migration, rendered for a dialect.
type migration struct {
	version int64
	name    string // its file name, e.g. 0002_rollout_engine.sql
	sql     string
}

// migrations renders every embedded migration for d, in version order.
func migrations(d dialect) ([]migration, error) {
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]migration, 0, len(files))
	for _, file := range files {
		version, err := goose.NumericComponent(file)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", file, err)
		}
		body, err := migrationFiles.ReadFile(file)
		if err != nil {
			return nil, err
		}
		t, err := template.New(file).Parse(string(body))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", file, err)
		}
		var sql strings.Builder
		if err := t.Execute(&sql, d); err != nil {
			return nil, fmt.Errorf("migration %s: %w", file, err)
		}
		out = append(out, migration{version: version, name: path.Base(file), sql: sql.String()})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	return out, nil
}

// migrate brings db's schema up to date: goose applies each pending
// migration in a transaction of its own and records it, holding d.locker
// meanwhile.
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	ms, err := migrations(d)
	if err != nil {
		return err
	}
	if err := adoptLegacy(ctx, db, d); err != nil {
		return fmt.Errorf("adopt the record of an earlier version: %w", err)
	}
	runs := make([]*goose.Migration, len(ms))
	for i, m := range ms {
		runs[i] = goose.NewGoMigration(m.version, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			// One Exec runs the whole file: SQLite and PostgreSQL's
			// simple protocol (no arguments) both take several statements.
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			return nil
		}}, nil)
	}
	opts := []goose.ProviderOption{goose.WithGoMigrations(runs...), goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(goose.NopLogger())}
	if d.locker != nil {
		opts = append(opts, goose.WithSessionLocker(d.locker))
	}
	p, err := goose.NewProvider(d.goose, db, nil, opts...)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// adoptLegacy carries a store of an earlier version, which named its
// applied migrations in schema_migrations, over to goose's table, once,
// so that goose applies only what came since. schema_migrations is left as
// it was, for a bot of that version to open the database while the schema
// still suits it.
func adoptLegacy(ctx context.Context, db *sql.DB, d dialect) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if d.locker != nil {
		if err := d.locker.SessionLock(ctx, conn); err != nil {
			return err
		}
		defer d.locker.SessionUnlock(context.WithoutCancel(ctx), conn)
	}
	if done, err := tableExists(ctx, conn, d, versionTable); err != nil || done {
		return err
	}
	if old, err := tableExists(ctx, conn, d, legacyTable); err != nil || !old {
		return err
	}
	applied, err := legacyVersions(ctx, conn)
	if err != nil {
		return err
	}
	versions, err := database.NewStore(d.goose, versionTable)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := versions.CreateVersionTable(ctx, tx); err != nil {
		return err
	}
	// Goose's table starts with version 0, as goose itself would write it.
	for _, v := range append([]int64{0}, applied...) {
		if err := versions.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// errNotAStore is checkSchema's answer for a database without a record of
// applied migrations, or that cannot say whether it has one.
var errNotAStore = errors.New("not a modelgate store")

// checkSchema compares the migrations db records as applied with those
// of this version, reading only: a reader never migrates.
func checkSchema(ctx context.Context, db *sql.DB, d dialect) error {
	ms, err := migrations(d)
	if err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, db, d)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !applied[m.version] {
			return fmt.Errorf("the schema is older than this tool (%s is not applied): run the bot of this version once, or an older tool", m.name)
		}
		delete(applied, m.version)
	}
	for v := range applied {
		return fmt.Errorf("the schema is newer than this tool (migration %d is applied): use the version of the bot that wrote it", v)
	}
	return nil
}

// appliedVersions reads which migrations db records as applied: from
// goose's table or, in a store of an earlier version, schema_migrations.
func appliedVersions(ctx context.Context, db database.DBTxConn, d dialect) (map[int64]bool, error) {
	applied := map[int64]bool{}
	ok, err := tableExists(ctx, db, d, versionTable)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotAStore, err)
	}
	if ok {
		versions, err := database.NewStore(d.goose, versionTable)
		if err != nil {
			return nil, err
		}
		list, err := versions.ListMigrations(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", versionTable, err)
		}
		seen := map[int64]bool{}
		for _, m := range list { // newest first: the last word on each version
			if !seen[m.Version] && m.IsApplied && m.Version != 0 {
				applied[m.Version] = true
			}
			seen[m.Version] = true
		}
		return applied, nil
	}
	ok, err = tableExists(ctx, db, d, legacyTable)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotAStore, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: it records no applied migrations (no %s table)", errNotAStore, versionTable)
	}
	old, err := legacyVersions(ctx, db)
	for _, v := range old {
		applied[v] = true
	}
	return applied, err
}

// legacyVersions reads the versions of the migrations schema_migrations
// names (migrations/sqlite/0001_init.sql is version 1).
func legacyVersions(ctx context.Context, db database.DBTxConn) ([]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM `+legacyTable)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", legacyTable, err)
	}
	names, err := collectSQL(rows, func(row scanner) (name string, err error) { return name, row.Scan(&name) })
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", legacyTable, err)
	}
	versions := make([]int64, 0, len(names))
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return nil, fmt.Errorf("%s names %q: %w", legacyTable, name, err)
		}
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return versions, nil
}

func tableExists(ctx context.Context, db database.DBTxConn, d dialect, table string) (bool, error) {
	var ok bool
	if err := db.QueryRowContext(ctx, d.tableExists, table).Scan(&ok); err != nil {
		return false, fmt.Errorf("look for table %s: %w", table, err)
	}
	return ok, nil
}

// advisoryLock is a PostgreSQL session lock: replicas that start together
// migrate one at a time, the first applying, the others then finding
// nothing to do. It waits in the database, where goose's own locker polls
// every few seconds.
type advisoryLock struct{ key int64 }

func (l advisoryLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, l.key); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	return nil
}

func (l advisoryLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, l.key); err != nil {
		return fmt.Errorf("advisory unlock: %w", err)
	}
	return nil
}
