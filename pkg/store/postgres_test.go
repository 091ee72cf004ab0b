package store

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/modelgate/modelgate/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pg is the package's PostgreSQL server, started by the first test that
// asks for a database.
var pg pgtest.Server

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// replicas opens n stores on one fresh database, each with its own
// connection pool, as n bot replicas would.
func replicas(t *testing.T, n int) []*Postgres {
	t.Helper()
	dsn := pg.DSN(t)
	out := make([]*Postgres, n)
	for i := range out {
		s, err := OpenPostgres(context.Background(), dsn, PostgresOptions{})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		out[i] = s
	}
	return out
}

func TestPostgresMigrationsRunConcurrently(t *testing.T) {
	dsn := pg.DSN(t)
	ctx := context.Background()
	errs := make([]error, 4)
	stores := make([]*Postgres, 4)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = OpenPostgres(ctx, dsn, PostgresOptions{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "replica %d", i)
		defer stores[i].Close()
	}
	var applied int
	require.NoError(t, stores[0].pool.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied))
	ms, err := migrations(postgresDialect())
	require.NoError(t, err)
	assert.Equal(t, len(ms), applied, "each migration applied once")
}

func TestPostgresConcurrentCanaryExactlyOneWins(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	for round := range 20 {
		errs := make([]error, len(rs))
		pgtest.Race(rs, func(i int, s *Postgres) {
			_, errs[i] = s.CreateRollout(ctx, Rollout{Repo: "o/r", PR: round, Model: fmt.Sprint("m", round),
				Version: "1", Environment: "production", HeadSHA: "abc", StartedBy: fmt.Sprint("user", i)})
		})
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
				continue
			}
			assert.ErrorIs(t, err, ErrConflict)
		}
		assert.Equal(t, 1, wins, "round %d", round)
		active, err := rs[1].ListRollouts(ctx, RolloutFilter{Model: fmt.Sprint("m", round), ActiveOnly: true})
		require.NoError(t, err)
		assert.Len(t, active, 1, "both replicas see the one winner")
	}
}

func TestPostgresConcurrentUpdateRolloutOneWins(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	r, err := rs[0].CreateRollout(ctx, Rollout{Repo: "o/r", PR: 1, Model: "fraud", Version: "1",
		Environment: "production", HeadSHA: "abc", State: "running"})
	require.NoError(t, err)
	for round := range 20 {
		read, err := rs[round%2].GetRollout(ctx, r.ID)
		require.NoError(t, err)
		saved := make([]Rollout, len(rs))
		errs := make([]error, len(rs))
		pgtest.Race(rs, func(i int, s *Postgres) {
			mine := read
			mine.Record = []byte(fmt.Sprintf(`{"replica":%d}`, i))
			saved[i], errs[i] = s.UpdateRollout(ctx, mine)
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "round %d: two winners", round)
				winner = i
				continue
			}
			assert.ErrorIs(t, err, ErrConflict, "round %d", round)
		}
		require.NotEqual(t, -1, winner, "round %d: no winner: %v", round, errs)
		got, err := rs[1-winner].GetRollout(ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, read.Revision+1, got.Revision)
		assert.Equal(t, saved[winner].Record, got.Record, "round %d: the winner's record is stored", round)
	}
}

func TestPostgresConcurrentLockOneWins(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	for round := range 20 {
		env := fmt.Sprint("env", round)
		held := make([]Lock, len(rs))
		errs := make([]error, len(rs))
		pgtest.Race(rs, func(i int, s *Postgres) {
			held[i], errs[i] = s.LockEnvironment(ctx, Lock{Repo: "o/r", Environment: env, Reason: "freeze", LockedBy: fmt.Sprint("user", i)})
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "round %d: two winners", round)
				winner = i
			}
		}
		require.NotEqual(t, -1, winner, "round %d: no winner: %v", round, errs)
		loser := 1 - winner
		assert.ErrorIs(t, errs[loser], ErrLocked)
		assert.Equal(t, fmt.Sprint("user", winner), held[loser].LockedBy, "the loser learns the holder")
		assert.Equal(t, "freeze", held[loser].Reason)
	}
	locks, err := rs[1].ListLocks(ctx, "o/r")
	require.NoError(t, err)
	assert.Len(t, locks, 20)
}

func TestPostgresConcurrentRedeliveryRecordsOneCommand(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	for round := range 20 {
		ids := make([]int64, len(rs))
		created := make([]bool, len(rs))
		pgtest.Race(rs, func(i int, s *Postgres) {
			c, ok, err := s.RecordCommand(ctx, Command{DeliveryID: fmt.Sprint("d", round), Repo: "o/r", PR: 1,
				Name: "canary", Args: "/canary", State: "received"})
			assert.NoError(t, err)
			ids[i], created[i] = c.ID, ok
		})
		assert.Equal(t, ids[0], ids[1], "round %d", round)
		assert.NotEqual(t, created[0], created[1], "round %d: exactly one created it", round)
	}
}

func TestOpenPostgresFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, dsn, want string
	}{
		{"not a url", "postgres://u:pw@[::1/x", "parse postgres url"},
		{"nobody listening", "postgres://u:pw@127.0.0.1:1/x?connect_timeout=5", "ping store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenPostgres(ctx, tt.dsn, PostgresOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "pw", "the password stays out of errors")
		})
	}
}

func TestPostgresAfterClose(t *testing.T) {
	s := replicas(t, 1)[0]
	require.NoError(t, s.Close())
	_, err := s.AppendAudit(context.Background(), AuditEntry{Actor: "a", Action: "x", Repo: "o/r", Decision: "done"})
	assert.ErrorContains(t, err, "append audit")
	assert.Error(t, s.Ping(context.Background()))
}

func TestOpenChoosesByDSN(t *testing.T) {
	ctx := context.Background()
	lite, err := Open(ctx, t.TempDir()+"/x.db")
	require.NoError(t, err)
	defer lite.Close()
	assert.IsType(t, &SQLite{}, lite)

	_, err = Open(ctx, "postgresql://u@127.0.0.1:1/x?connect_timeout=5")
	assert.ErrorContains(t, err, "ping store", "a postgresql:// URL goes to PostgreSQL")

	p, err := Open(ctx, pg.DSN(t))
	require.NoError(t, err)
	defer p.Close()
	assert.IsType(t, &Postgres{}, p)
}
