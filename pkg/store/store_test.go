package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelgate/modelgate/internal/testclock"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is the tests' clock, moved on by hand.
type clock = testclock.Clock

// backend is one implementation the contract tests run against.
type backend struct {
	name string
	dsn  func(t testing.TB) string // a fresh, empty database
	open func(ctx context.Context, dsn string, now func() time.Time) (Store, error)
	// exec runs SQL on the database behind the store's back.
	exec func(ctx context.Context, dsn string, stmts ...string) error
}

func backends() []backend {
	return []backend{
		{
			name: "sqlite",
			dsn:  func(t testing.TB) string { return filepath.Join(t.TempDir(), "test.db") },
			open: func(ctx context.Context, dsn string, now func() time.Time) (Store, error) {
				return OpenSQLite(ctx, dsn, SQLiteOptions{Now: now})
			},
			exec: execSQLite,
		},
		{
			name: "postgres",
			dsn:  func(t testing.TB) string { return pg.DSN(t) },
			open: func(ctx context.Context, dsn string, now func() time.Time) (Store, error) {
				return OpenPostgres(ctx, dsn, PostgresOptions{Now: now})
			},
			exec: execPostgres,
		},
	}
}

func execSQLite(ctx context.Context, dsn string, stmts ...string) error {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return execEach(stmts, func(q string) error { _, err := db.ExecContext(ctx, q); return err })
}

func execPostgres(ctx context.Context, dsn string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return execEach(stmts, func(q string) error { _, err := conn.Exec(ctx, q); return err })
}

func execEach(stmts []string, exec func(string) error) error {
	for _, q := range stmts {
		if err := exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// firstSchema is the text of the 0001 migration for a backend plus its
// bookkeeping, as a store of the first schema left it (before goose kept
// the record, in schema_migrations).
func firstSchema(t *testing.T, backend string) string {
	d := map[string]dialect{"sqlite": sqliteDialect(), "postgres": postgresDialect()}[backend]
	ms, err := migrations(d)
	require.NoError(t, err)
	require.Equal(t, "0001_init.sql", ms[0].name)
	return ms[0].sql + `;
		CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL);
		INSERT INTO schema_migrations VALUES ('migrations/` + backend + `/0001_init.sql', 0);`
}

// eachStore runs test against a fresh store of every backend, all sharing
// one test clock.
func eachStore(t *testing.T, test func(t *testing.T, s Store, c *clock)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := testclock.New(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
			s, err := b.open(context.Background(), b.dsn(t), c.Now)
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			test(t, s, c)
		})
	}
}

func TestReopenKeepsStateAndMigratesOnce(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			s, err := b.open(ctx, dsn, time.Now)
			require.NoError(t, err)
			_, err = s.Queue().Add(ctx, queue.Job{Queue: "webhook", Kind: "ping", Key: "d1", Payload: []byte("{}")})
			require.NoError(t, err)
			_, err = s.LockEnvironment(ctx, Lock{Repo: "o/r", Environment: "production", LockedBy: "alice"})
			require.NoError(t, err)
			require.NoError(t, s.Close())

			s, err = b.open(ctx, dsn, time.Now)
			require.NoError(t, err)
			defer s.Close()
			d, err := s.Queue().Get(ctx, "webhook", "d1")
			require.NoError(t, err)
			assert.Equal(t, "ping", d.Kind)
			held, err := s.LockEnvironment(ctx, Lock{Repo: "o/r", Environment: "production", LockedBy: "bob"})
			assert.ErrorIs(t, err, ErrLocked, "locks survive a restart")
			assert.Equal(t, "alice", held.LockedBy)
			require.NoError(t, s.Ping(ctx))
		})
	}
}

func TestMigrationKeepsRowsOfTheFirstSchema(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			require.NoError(t, b.exec(ctx, dsn, firstSchema(t, b.name),
				`INSERT INTO rollouts (repo, pr, model, version, environment, head_sha, state, active, plan,
					started_by, created_at, updated_at)
				VALUES ('o/r', 1, 'fraud', '3.2.0', 'production', 'abc', 'running', 1, '', 'alice', 1000, 1000)`,
				`INSERT INTO audit (at, actor, action, repo, decision) VALUES (1000, 'alice', 'command.canary', 'o/r', 'accepted')`))

			s, err := b.open(ctx, dsn, time.Now)
			require.NoError(t, err)
			defer s.Close()
			rs, err := s.ListRollouts(ctx, RolloutFilter{Repo: "o/r"})
			require.NoError(t, err)
			require.Len(t, rs, 1)
			old := rs[0]
			assert.Equal(t, int64(1), old.Revision)
			assert.Zero(t, old.InstallationID)
			assert.Empty(t, old.Record)
			old.State, old.Record = "promoted", []byte(`{}`)
			saved, err := s.UpdateRollout(ctx, old)
			require.NoError(t, err, "an old row takes part in the revision check")
			assert.Equal(t, int64(2), saved.Revision)
			audit, err := s.ListAudit(ctx, AuditFilter{Repo: "o/r"})
			require.NoError(t, err)
			require.Len(t, audit, 1)
			assert.Zero(t, audit[0].RolloutID)
		})
	}
}

func TestCommands(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, _ *clock) {
		ctx := context.Background()
		c, created, err := s.RecordCommand(ctx, Command{DeliveryID: "d1", Repo: "o/r", PR: 7, Commenter: "alice", Name: "canary", Args: "/canary", State: "received"})
		require.NoError(t, err)
		assert.True(t, created)
		again, created, err := s.RecordCommand(ctx, Command{DeliveryID: "d1", Repo: "o/r", PR: 7, Name: "canary", State: "received"})
		require.NoError(t, err)
		assert.False(t, created)
		assert.Equal(t, c.ID, again.ID)
		require.NoError(t, s.UpdateCommand(ctx, c.ID, "done", "ok", 4))
		list, err := s.ListCommands(ctx, "o/r", 7, 0)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, "done", list[0].State)
		assert.Equal(t, 4, list[0].APICalls)
		assert.ErrorIs(t, s.UpdateCommand(ctx, 999, "x", "", 0), ErrNotFound)
	})
}

func TestRolloutsOneActivePerModelAndEnvironment(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, _ *clock) {
		ctx := context.Background()
		r := Rollout{Repo: "o/r", PR: 1, Model: "fraud", Version: "3.2.0", Environment: "production", HeadSHA: "abc", StartedBy: "alice"}
		first, err := s.CreateRollout(ctx, r)
		require.NoError(t, err)
		assert.Equal(t, "pending", first.State)
		_, err = s.CreateRollout(ctx, r)
		assert.ErrorIs(t, err, ErrConflict)

		first.State, first.TrafficPercent = "rolled_back", 0
		_, err = s.UpdateRollout(ctx, first)
		require.NoError(t, err)
		second, err := s.CreateRollout(ctx, r)
		require.NoError(t, err, "a finished rollout frees the model and environment")

		require.NoError(t, s.PutStage(ctx, Stage{RolloutID: second.ID, Index: 0, TrafficPercent: 5, State: "deploying"}))
		require.NoError(t, s.PutStage(ctx, Stage{RolloutID: second.ID, Index: 0, TrafficPercent: 5, State: "passed", DeploymentID: 9}))
		stages, err := s.ListStages(ctx, second.ID)
		require.NoError(t, err)
		require.Len(t, stages, 1)
		assert.Equal(t, "passed", stages[0].State)

		active, err := s.ListRollouts(ctx, RolloutFilter{Repo: "o/r", PR: 1, ActiveOnly: true})
		require.NoError(t, err)
		require.Len(t, active, 1)
		assert.Equal(t, second.ID, active[0].ID)
		all, err := s.ListRollouts(ctx, RolloutFilter{Model: "fraud", Environment: "production"})
		require.NoError(t, err)
		assert.Len(t, all, 2)
		_, err = s.GetRollout(ctx, 999)
		assert.ErrorIs(t, err, ErrNotFound)
		_, err = s.UpdateRollout(ctx, Rollout{ID: 999, Revision: 1})
		assert.ErrorIs(t, err, ErrNotFound)

		// Reviving the finished rollout would make a second active one.
		old, err := s.GetRollout(ctx, first.ID)
		require.NoError(t, err)
		old.State = "running"
		_, err = s.UpdateRollout(ctx, old)
		assert.ErrorIs(t, err, ErrConflict)
		assert.ErrorContains(t, err, "already has an active rollout")
	})
}

func TestUpdateRolloutComparesRevisions(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, c *clock) {
		ctx := context.Background()
		created, err := s.CreateRollout(ctx, Rollout{Repo: "o/r", PR: 2, Model: "fraud", Version: "3.2.0",
			Environment: "production", HeadSHA: "abc", StartedBy: "alice", InstallationID: 42, Plan: []byte(`{}`),
			Record: []byte(`{"step":0}`)})
		require.NoError(t, err)
		assert.Equal(t, int64(1), created.Revision)
		assert.Equal(t, int64(42), created.InstallationID)

		c.Add(time.Minute)
		next := created
		next.State, next.Stage, next.TrafficPercent, next.HeadSHA = "running", 1, 25, "def"
		next.BaselineVersion, next.InstallationID, next.Record = "3.1.0", 43, []byte(`{"step":1}`)
		saved, err := s.UpdateRollout(ctx, next)
		require.NoError(t, err)
		assert.Equal(t, int64(2), saved.Revision)
		assert.Equal(t, c.Now(), saved.UpdatedAt)
		assert.Equal(t, created.CreatedAt, saved.CreatedAt)

		got, err := s.GetRollout(ctx, created.ID)
		require.NoError(t, err)
		assert.Equal(t, saved, got, "UpdateRollout returns the stored row")
		assert.Equal(t, Rollout{ID: created.ID, Repo: "o/r", PR: 2, Model: "fraud", Version: "3.2.0",
			BaselineVersion: "3.1.0", Environment: "production", HeadSHA: "def", State: "running", Stage: 1,
			TrafficPercent: 25, Plan: []byte(`{}`), StartedBy: "alice", InstallationID: 43, Record: []byte(`{"step":1}`),
			Revision: 2, CreatedAt: created.CreatedAt, UpdatedAt: c.Now()}, got)

		// A writer still holding revision 1 lost the race: nothing changes.
		stale := created
		stale.State = "paused"
		_, err = s.UpdateRollout(ctx, stale)
		assert.ErrorIs(t, err, ErrConflict)
		assert.ErrorContains(t, err, "changed since it was read")
		got, err = s.GetRollout(ctx, created.ID)
		require.NoError(t, err)
		assert.Equal(t, "running", got.State)
		assert.Equal(t, int64(2), got.Revision)

		again, err := s.UpdateRollout(ctx, got)
		require.NoError(t, err)
		assert.Equal(t, int64(3), again.Revision, "every write moves the revision on")
	})
}

func TestRolloutRecordRoundTrips(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, _ *clock) {
		ctx := context.Background()
		big := []byte(`{"log":"` + strings.Repeat("x", 256<<10) + `"}`)
		r, err := s.CreateRollout(ctx, Rollout{Repo: "o/r", PR: 1, Model: "m", Version: "1", Environment: "e", Record: big})
		require.NoError(t, err)
		got, err := s.GetRollout(ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, big, got.Record)

		bare, err := s.CreateRollout(ctx, Rollout{Repo: "o/r", PR: 1, Model: "m2", Version: "1", Environment: "e"})
		require.NoError(t, err)
		got, err = s.GetRollout(ctx, bare.ID)
		require.NoError(t, err)
		assert.Empty(t, got.Record)
		assert.Zero(t, got.InstallationID)

		got.Record = []byte(`{"b":[1,2,3]}`)
		saved, err := s.UpdateRollout(ctx, got)
		require.NoError(t, err)
		assert.Equal(t, []byte(`{"b":[1,2,3]}`), saved.Record)
	})
}

func TestListRolloutsByStateNewestFirst(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, _ *clock) {
		ctx := context.Background()
		var ids []int64
		for i, state := range []string{"promoted", "rolled_back", "running", "aborted"} {
			r, err := s.CreateRollout(ctx, Rollout{Repo: "o/r", PR: 1, Model: fmt.Sprint("m", i), Version: "1",
				Environment: "production", State: state})
			require.NoError(t, err)
			ids = append(ids, r.ID)
		}
		tests := []struct {
			name   string
			filter RolloutFilter
			want   []int64
		}{
			{"all, newest first", RolloutFilter{}, []int64{ids[3], ids[2], ids[1], ids[0]}},
			{"one state", RolloutFilter{States: []string{"running"}}, []int64{ids[2]}},
			{"any of states", RolloutFilter{States: []string{"promoted", "aborted"}}, []int64{ids[3], ids[0]}},
			{"states and repo", RolloutFilter{Repo: "o/other", States: []string{"promoted"}}, nil},
			{"limit", RolloutFilter{Limit: 2}, []int64{ids[3], ids[2]}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.ListRollouts(ctx, tt.filter)
				require.NoError(t, err)
				var gotIDs []int64
				for _, r := range got {
					gotIDs = append(gotIDs, r.ID)
				}
				assert.Equal(t, tt.want, gotIDs)
			})
		}
	})
}

func TestLocks(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, _ *clock) {
		ctx := context.Background()
		_, err := s.LockEnvironment(ctx, Lock{Repo: "o/r", Environment: "production", Reason: "freeze", LockedBy: "alice"})
		require.NoError(t, err)
		held, err := s.LockEnvironment(ctx, Lock{Repo: "o/r", Environment: "production", LockedBy: "bob"})
		assert.ErrorIs(t, err, ErrLocked)
		assert.Equal(t, "alice", held.LockedBy)
		assert.Equal(t, "freeze", held.Reason)
		locks, err := s.ListLocks(ctx, "o/r")
		require.NoError(t, err)
		assert.Len(t, locks, 1)

		// A locked environment refuses a new rollout in the same statement
		// that would create it; other environments and repositories do not.
		r := Rollout{Repo: "o/r", PR: 1, Model: "fraud", Version: "1.0.0", Environment: "production", State: "deploying"}
		_, err = s.CreateRollout(ctx, r)
		assert.ErrorIs(t, err, ErrLocked)
		staging := r
		staging.Environment = "staging"
		_, err = s.CreateRollout(ctx, staging)
		assert.NoError(t, err)
		other := r
		other.Repo = "o/other"
		_, err = s.CreateRollout(ctx, other)
		assert.NoError(t, err)

		require.NoError(t, s.UnlockEnvironment(ctx, "o/r", "production"))
		assert.ErrorIs(t, s.UnlockEnvironment(ctx, "o/r", "production"), ErrNotFound)
		_, err = s.CreateRollout(ctx, r)
		assert.NoError(t, err, "unlocked again")
	})
}

func TestAudit(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, c *clock) {
		ctx := context.Background()
		_, err := s.AppendAudit(ctx, AuditEntry{Actor: "alice", Action: "command.canary", Repo: "o/r", PR: 3, Decision: "refused", Reason: "needs write"})
		require.NoError(t, err)
		c.Add(time.Hour)
		_, err = s.AppendAudit(ctx, AuditEntry{Actor: "bob", Action: "command.promote", Repo: "o/r", PR: 4, Decision: "accepted", Details: []byte(`{"k":1}`)})
		require.NoError(t, err)
		all, err := s.ListAudit(ctx, AuditFilter{Repo: "o/r"})
		require.NoError(t, err)
		require.Len(t, all, 2)
		assert.Equal(t, "needs write", all[0].Reason)
		recent, err := s.ListAudit(ctx, AuditFilter{Since: c.Now().Add(-time.Minute)})
		require.NoError(t, err)
		require.Len(t, recent, 1)
		assert.Equal(t, "bob", recent[0].Actor)
		pr3, err := s.ListAudit(ctx, AuditFilter{PR: 3})
		require.NoError(t, err)
		assert.Len(t, pr3, 1)
		assert.Zero(t, pr3[0].RolloutID)
	})
}

func TestAuditByRolloutAndModel(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, _ *clock) {
		ctx := context.Background()
		entries := []AuditEntry{
			{Actor: "alice", Action: "rollout.started", Repo: "o/r", Model: "fraud", RolloutID: 7, Decision: "accepted"},
			{Actor: "modelgate", Action: "rollout.stage", Repo: "o/r", Model: "fraud", RolloutID: 7, Decision: "done",
				Details: []byte(`{"rollout_id":7,"stage":1}`)},
			{Actor: "bob", Action: "rollout.started", Repo: "o/r", Model: "churn", RolloutID: 8, Decision: "accepted"},
			{Actor: "carol", Action: "command.status", Repo: "o/r", Model: "fraud", Decision: "done", DeliveryID: "d1"},
		}
		for _, e := range entries {
			_, err := s.AppendAudit(ctx, e)
			require.NoError(t, err)
		}
		tests := []struct {
			name    string
			filter  AuditFilter
			actions []string
		}{
			{"rollout", AuditFilter{RolloutID: 7}, []string{"rollout.started", "rollout.stage"}},
			{"other rollout", AuditFilter{RolloutID: 8}, []string{"rollout.started"}},
			{"no such rollout", AuditFilter{RolloutID: 9}, nil},
			{"model", AuditFilter{Repo: "o/r", Model: "fraud"}, []string{"rollout.started", "rollout.stage", "command.status"}},
			{"model and rollout", AuditFilter{Model: "churn", RolloutID: 7}, nil},
			{"delivery", AuditFilter{Repo: "o/r", DeliveryID: "d1"}, []string{"command.status"}},
			{"no such delivery", AuditFilter{Repo: "o/r", DeliveryID: "d2"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.ListAudit(ctx, tt.filter)
				require.NoError(t, err)
				var actions []string
				for _, e := range got {
					actions = append(actions, e.Action)
					if tt.filter.RolloutID != 0 {
						assert.Equal(t, tt.filter.RolloutID, e.RolloutID)
					}
				}
				assert.Equal(t, tt.actions, actions)
			})
		}
	})
}
