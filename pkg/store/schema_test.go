package store

import (
	"context"
	"testing"
	"time"

	"github.com/modelgate/modelgate/pkg/queue"
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
				{"the earlier version's", func(t *testing.T, dsn string) {
					require.NoError(t, b.exec(ctx, dsn, earlierSchema(t, b.name)...))
				}, "the schema is older than this tool (0003_queue.sql is not applied)"},
				{"the earlier version's, at its first", func(t *testing.T, dsn string) {
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

// The work waiting in the tables of the earlier version moves to the
// queue on upgrade: nothing pending is lost, a delivery in progress keeps
// its lease, and a done one still keeps its redelivery out.
func TestMigrationMovesQueuedWorkToTheQueue(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			require.NoError(t, b.exec(ctx, dsn, append(earlierSchema(t, b.name),
				`INSERT INTO deliveries (id, event, state, attempts, processed, last_error, lease_owner, lease_until,
					received_at, next_attempt, done_at) VALUES
					('pend', 'issue_comment', 'pending', 1, 0, 'github 502', '', 0, 1000, 11000, 0),
					('proc', 'deployment_status', 'processing', 1, 0, '', 'old/1/0', 301000, 2000, 301000, 0),
					('done', 'issue_comment', 'done', 1, 1, '', '', 0, 3000, 3000, 3500),
					('fail', 'pull_request', 'failed', 5, 0, 'gave up', '', 0, 4000, 4000, 9000)`,
				`INSERT INTO delivery_payloads (id, payload) SELECT id, `+blob(b.name, `{"d":1}`)+` FROM deliveries`,
				`INSERT INTO jobs (kind, key, payload, due_at, state, attempts, last_error, lease_owner, lease_until) VALUES
					('rollout.effects', '7', `+blob(b.name, `{"look":0}`)+`, 5000, 'pending', 0, '', '', 0),
					('rollout.analysis', '7', `+blob(b.name, `{"look":2}`)+`, 4000, 'running', 2, '', 'old', 124000),
					('rollout.analysis', '7', NULL, 4000, 'running', 1, '', 'older', 4500),
					('rollout.effects', '8', NULL, 1000, 'done', 1, '', '', 0),
					('rollout.effects', '9', NULL, 6000, 'pending', 0, '', '', 0)`)...))

			s, err := b.open(ctx, dsn, time.Now)
			require.NoError(t, err)
			defer s.Close()
			q := s.Queue()
			pend, err := q.Get(ctx, "webhook", "pend")
			require.NoError(t, err)
			assert.Equal(t, queue.Job{ID: pend.ID, Queue: "webhook", Kind: "issue_comment", Key: "pend",
				Payload: []byte(`{"d":1}`), State: queue.Pending, DueAt: time.UnixMilli(11000).UTC(), Attempts: 1,
				LastError: "github 502", CreatedAt: time.UnixMilli(1000).UTC()}, pend)
			proc, err := q.Get(ctx, "webhook", "proc")
			require.NoError(t, err)
			assert.Equal(t, queue.Running, proc.State)
			assert.Equal(t, time.UnixMilli(301000).UTC(), proc.DueAt, "its lease holds")
			ins, err := q.Add(ctx, queue.Job{Queue: "webhook", Kind: "issue_comment", Key: "done"})
			require.NoError(t, err)
			assert.False(t, ins, "a done delivery keeps its redelivery out")
			st, err := q.Stats(ctx, "webhook")
			require.NoError(t, err)
			assert.Equal(t, map[queue.State]int{queue.Pending: 1, queue.Running: 1, queue.Done: 1, queue.Failed: 1}, st.ByState)

			early, err := q.Claim(ctx, "webhook", time.UnixMilli(200000), 10, queue.Lease{Worker: "new", Until: time.UnixMilli(900000)})
			require.NoError(t, err)
			assert.Equal(t, []string{"pend"}, jobKeys(early), "the one in progress is taken over when its lease ends")
			late, err := q.Claim(ctx, "webhook", time.UnixMilli(301000), 10, queue.Lease{Worker: "new", Until: time.UnixMilli(310000)})
			require.NoError(t, err)
			assert.Equal(t, []string{"proc"}, jobKeys(late))
			assert.Equal(t, []byte(`{"d":1}`), late[0].Payload)

			st, err = q.Stats(ctx, "rollout")
			require.NoError(t, err)
			assert.Equal(t, map[queue.State]int{queue.Pending: 2, queue.Running: 1, queue.Done: 1}, st.ByState,
				"of the two running analyses of 7 one stays")
			jobs, err := q.Claim(ctx, "rollout", time.UnixMilli(200000), 10, queue.Lease{Worker: "new", Until: time.UnixMilli(900000)})
			require.NoError(t, err)
			byKey := map[string]queue.Job{}
			for _, j := range jobs {
				byKey[j.Kind+"/"+j.Key] = j
			}
			require.Len(t, byKey, 3)
			assert.Equal(t, []byte(`{"look":2}`), byKey["rollout.analysis/7"].Payload)
			assert.Equal(t, 3, byKey["rollout.analysis/7"].Attempts, "its lease ended: claimed again")
			assert.Equal(t, []byte(`{"look":0}`), byKey["rollout.effects/7"].Payload)
			assert.Empty(t, byKey["rollout.effects/9"].Payload)
			assert.Error(t, b.exec(ctx, dsn, `SELECT 1 FROM deliveries`), "the old tables are gone")
		})
	}
}

// blob is a byte string literal of text in a backend's SQL.
func blob(backend, text string) string {
	if backend == "postgres" {
		return "convert_to('" + text + "', 'UTF8')"
	}
	return "CAST('" + text + "' AS BLOB)"
}

func jobKeys(jobs []queue.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Key)
	}
	return out
}
