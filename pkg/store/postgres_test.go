package store

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pg is the package's PostgreSQL server, started by the first test that
// asks for a database.
var pg pgtest.Server

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop postgres:", err)
		code = 1
	}
	os.Exit(code)
}

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

// race runs fn once per replica, all released at the same moment.
func race(replicas []*Postgres, fn func(i int, s *Postgres)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, s := range replicas {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn(i, s)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
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

func TestPostgresReplicasClaimEachDeliveryOnce(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	const n = 300
	for i := range n {
		_, err := rs[i%2].EnqueueDelivery(ctx, Delivery{ID: fmt.Sprint("d", i), Event: "e", Payload: []byte(`{}`)})
		require.NoError(t, err)
	}
	var mu sync.Mutex
	claims := map[string]int{}
	var workers []*Postgres
	for range 4 { // four workers in each replica
		workers = append(workers, rs...)
	}
	race(workers, func(i int, s *Postgres) {
		worker := fmt.Sprint("w", i)
		for {
			got, err := s.ClaimDeliveries(ctx, worker, 7, time.Minute)
			if !assert.NoError(t, err) || len(got) == 0 {
				return
			}
			outcomes := make([]DeliveryOutcome, len(got))
			mu.Lock()
			for k, d := range got {
				claims[d.ID]++
				outcomes[k].ID = d.ID
			}
			mu.Unlock()
			assert.NoError(t, s.CompleteDeliveries(ctx, worker, outcomes))
		}
	})
	assert.Len(t, claims, n)
	for id, c := range claims {
		assert.Equal(t, 1, c, "delivery %s claimed %d times", id, c)
	}
	st, err := rs[0].DeliveryStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[DeliveryState]int{DeliveryDone: n}, st.ByState)
	assert.Zero(t, st.ProcessedTwice)
}

func TestPostgresReplicasClaimEachJobOnce(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	now := time.Now()
	const n = 200
	for i := range n {
		_, err := rs[i%2].ScheduleJob(ctx, Job{Kind: "analyse", Key: fmt.Sprint("r", i), DueAt: now})
		require.NoError(t, err)
	}
	var claimed sync.Map
	var total atomic.Int64
	var workers []*Postgres
	for range 3 {
		workers = append(workers, rs...)
	}
	race(workers, func(i int, s *Postgres) {
		for {
			jobs, err := s.ClaimDueJobs(ctx, fmt.Sprint("w", i), now, 5, time.Minute)
			if !assert.NoError(t, err) || len(jobs) == 0 {
				return
			}
			for _, j := range jobs {
				_, twice := claimed.LoadOrStore(j.ID, i)
				assert.False(t, twice, "job %d claimed twice", j.ID)
				total.Add(1)
				assert.NoError(t, s.CompleteJob(ctx, fmt.Sprint("w", i), j.ID, nil))
			}
		}
	})
	assert.Equal(t, int64(n), total.Load())
}

func TestPostgresConcurrentCanaryExactlyOneWins(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	for round := range 20 {
		errs := make([]error, len(rs))
		race(rs, func(i int, s *Postgres) {
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
		race(rs, func(i int, s *Postgres) {
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

func TestPostgresReplicasNeverRunTwinJobsAtOnce(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	now := time.Now()
	const keys, rounds = 5, 8
	var running sync.Map // key -> worker holding it
	var ran atomic.Int64
	var workers []*Postgres
	for range 3 {
		workers = append(workers, rs...)
	}
	race(workers, func(i int, s *Postgres) {
		worker := fmt.Sprint("w", i)
		for range rounds * keys {
			// Every worker keeps scheduling the next run of every key, as
			// the engine does while a run is under way.
			for k := range keys {
				_, err := s.ScheduleJob(ctx, Job{Kind: "rollout.effects", Key: fmt.Sprint(k), DueAt: now})
				assert.NoError(t, err)
			}
			jobs, err := s.ClaimDueJobs(ctx, worker, now, 3, time.Minute)
			if !assert.NoError(t, err) {
				return
			}
			for _, j := range jobs {
				holder, busy := running.LoadOrStore(j.Key, worker)
				assert.False(t, busy, "key %s claimed by %s while %v runs it", j.Key, worker, holder)
			}
			for _, j := range jobs {
				ran.Add(1)
				running.Delete(j.Key)
				assert.NoError(t, s.CompleteJob(ctx, worker, j.ID, nil))
			}
		}
	})
	assert.Positive(t, ran.Load())
}

func TestPostgresConcurrentLockOneWins(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	for round := range 20 {
		env := fmt.Sprint("env", round)
		held := make([]Lock, len(rs))
		errs := make([]error, len(rs))
		race(rs, func(i int, s *Postgres) {
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
		race(rs, func(i int, s *Postgres) {
			c, ok, err := s.RecordCommand(ctx, Command{DeliveryID: fmt.Sprint("d", round), Repo: "o/r", PR: 1,
				Name: "canary", Args: "/canary", State: "received"})
			assert.NoError(t, err)
			ids[i], created[i] = c.ID, ok
		})
		assert.Equal(t, ids[0], ids[1], "round %d", round)
		assert.NotEqual(t, created[0], created[1], "round %d: exactly one created it", round)
	}
}

func TestPostgresConcurrentEnqueueSameDelivery(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	for round := range 20 {
		inserted := make([]bool, len(rs))
		race(rs, func(i int, s *Postgres) {
			var err error
			inserted[i], err = s.EnqueueDelivery(ctx, Delivery{ID: fmt.Sprint("d", round), Event: "e", Payload: []byte(fmt.Sprint(i))})
			assert.NoError(t, err)
		})
		assert.NotEqual(t, inserted[0], inserted[1], "round %d: exactly one stored it", round)
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
	_, err := s.EnqueueDelivery(context.Background(), Delivery{ID: "x", Event: "e"})
	assert.ErrorContains(t, err, "enqueue delivery x")
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

func TestPostgresClaimSkipsRowsAnotherReplicaHolds(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	for _, id := range []string{"held", "free"} {
		_, err := rs[0].EnqueueDelivery(ctx, Delivery{ID: id, Event: "e", Payload: []byte("{}")})
		require.NoError(t, err)
	}
	// Replica 0 is in the middle of claiming "held".
	tx, err := rs[0].pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `SELECT id FROM deliveries WHERE id = 'held' FOR UPDATE`)
	require.NoError(t, err)

	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := rs[1].ClaimDeliveries(wait, "w1", 10, time.Minute)
	require.NoError(t, err, "a claim does not wait for rows another replica holds")
	require.Len(t, got, 1)
	assert.Equal(t, "free", got[0].ID)
}
