package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// earlierSchema is a store as the version before goose left it: both
// migrations applied and named in schema_migrations.
func earlierSchema(t *testing.T, backend string) []string {
	d := map[string]dialect{"sqlite": sqliteDialect(), "postgres": postgresDialect()}[backend]
	ms, err := migrations(d)
	require.NoError(t, err)
	return []string{firstSchema(t, backend), ms[1].sql,
		`INSERT INTO schema_migrations VALUES ('migrations/` + backend + `/0002_rollout_engine.sql', 0)`}
}

func TestOpenReaderRefusesOtherSchemas(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			current := func(t *testing.T, dsn string) {
				s, err := b.open(ctx, dsn, time.Now)
				require.NoError(t, err)
				require.NoError(t, s.Close())
			}
			tests := []struct {
				name    string
				prepare func(t *testing.T, dsn string)
				want    string // "" when the reader opens it
			}{
				{"this version's", current, ""},
				{"older", func(t *testing.T, dsn string) {
					current(t, dsn)
					require.NoError(t, b.exec(ctx, dsn, `DELETE FROM goose_db_version WHERE version_id = 2`))
				}, "the schema is older than this tool (0002_rollout_engine.sql is not applied)"},
				{"newer", func(t *testing.T, dsn string) {
					current(t, dsn)
					require.NoError(t, b.exec(ctx, dsn, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`))
				}, "the schema is newer than this tool (migration 9999 is applied)"},
				{"rolled back", func(t *testing.T, dsn string) {
					current(t, dsn)
					require.NoError(t, b.exec(ctx, dsn, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, false)`))
				}, "the schema is older than this tool (0002_rollout_engine.sql is not applied)"},
				{"not a store", func(t *testing.T, dsn string) {
					require.NoError(t, b.exec(ctx, dsn, `CREATE TABLE notes (body TEXT)`))
				}, "not a modelgate store"},
				{"the earlier version's, current", func(t *testing.T, dsn string) {
					require.NoError(t, b.exec(ctx, dsn, earlierSchema(t, b.name)...))
				}, ""},
				{"the earlier version's, older", func(t *testing.T, dsn string) {
					require.NoError(t, b.exec(ctx, dsn, firstSchema(t, b.name)))
				}, "the schema is older than this tool (0002_rollout_engine.sql is not applied)"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dsn := b.dsn(t)
					tt.prepare(t, dsn)
					for range 2 { // reading twice: the first did not migrate it
						r, err := OpenReader(ctx, dsn)
						if tt.want != "" {
							require.ErrorContains(t, err, tt.want)
							continue
						}
						require.NoError(t, err)
						_, err = r.ListRollouts(ctx, RolloutFilter{})
						require.NoError(t, err)
						require.NoError(t, r.Close())
					}
				})
			}
		})
	}
}

// A store of the version before goose opens and moves on from where it
// was: goose adopts its record and applies nothing twice.
func TestMigrateAdoptsTheEarlierRecord(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			require.NoError(t, b.exec(ctx, dsn, earlierSchema(t, b.name)...))
			require.NoError(t, b.exec(ctx, dsn, `INSERT INTO locks VALUES ('o/r', 'production', 'freeze', 'alice', 1000)`))
			for range 2 {
				s, err := b.open(ctx, dsn, time.Now)
				require.NoError(t, err, "no migration applied again")
				locks, err := s.ListLocks(ctx, "o/r")
				require.NoError(t, err)
				assert.Len(t, locks, 1)
				require.NoError(t, s.Close())
			}
			r, err := OpenReader(ctx, dsn)
			require.NoError(t, err)
			require.NoError(t, r.Close())
		})
	}
}
