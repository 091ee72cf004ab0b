package queue_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	"github.com/modelgate/modelgate/internal/pgtest"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replicas opens n queues on one fresh PostgreSQL database, each with its
// own connection pool, as n bot replicas would.
func replicas(t *testing.T, n int) []*queue.Store {
	t.Helper()
	dsn := pg.DSN(t)
	b := backends()[1]
	out := make([]*queue.Store, n)
	for i := range out {
		out[i] = b.openQueue(t, dsn, time.Now)
	}
	return out
}

// workers is four workers in each replica.
func workers(rs []*queue.Store) []*queue.Store {
	var out []*queue.Store
	for range 4 {
		out = append(out, rs...)
	}
	return out
}

func TestPostgresReplicasClaimEachJobOnce(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	now := time.Now()
	const n = 300
	for i := range n {
		if i%3 == 0 {
			_, err := rs[i%2].Schedule(ctx, queue.Job{Queue: "webhook", Kind: "analyse", Key: fmt.Sprint("r", i), DueAt: now})
			require.NoError(t, err)
			continue
		}
		_, err := rs[i%2].Add(ctx, delivery(fmt.Sprint("d", i)))
		require.NoError(t, err)
	}
	var mu sync.Mutex
	claims := map[int64]int{}
	pgtest.Race(workers(rs), func(i int, q *queue.Store) {
		worker := fmt.Sprint("w", i)
		for {
			got, err := q.Claim(ctx, "webhook", time.Now(), 7, queue.Lease{Worker: worker, Until: time.Now().Add(time.Minute)})
			if !assert.NoError(t, err) || len(got) == 0 {
				return
			}
			outcomes := make([]queue.Outcome, len(got))
			mu.Lock()
			for k, j := range got {
				claims[j.ID]++
				outcomes[k].ID = j.ID
			}
			mu.Unlock()
			assert.NoError(t, q.Complete(ctx, worker, outcomes))
		}
	})
	assert.Len(t, claims, n)
	for id, c := range claims {
		assert.Equal(t, 1, c, "job %d claimed %d times", id, c)
	}
	st, err := rs[0].Stats(ctx, "webhook")
	require.NoError(t, err)
	assert.Equal(t, map[queue.State]int{queue.Done: n}, st.ByState)
	assert.Zero(t, st.CompletedTwice)
}

func TestPostgresReplicasNeverRunTwinsAtOnce(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	const keys, rounds = 5, 8
	var running sync.Map // key -> worker holding it
	var ran atomic.Int64
	pgtest.Race(workers(rs), func(i int, q *queue.Store) {
		worker := fmt.Sprint("w", i)
		for range rounds * keys {
			// Every worker keeps scheduling the next run of every key, as
			// the rollout engine does while a run is under way.
			for k := range keys {
				_, err := q.Schedule(ctx, queue.Job{Queue: "rollout", Kind: "rollout.effects", Key: fmt.Sprint(k), DueAt: time.Now()})
				assert.NoError(t, err)
			}
			jobs, err := q.Claim(ctx, "rollout", time.Now(), 3, queue.Lease{Worker: worker, Until: time.Now().Add(time.Minute)})
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
				assert.NoError(t, q.Complete(ctx, worker, []queue.Outcome{{ID: j.ID}}))
			}
		}
	})
	assert.Positive(t, ran.Load())
}

func TestPostgresReplicasAddOneDeliveryOnce(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	for round := range 20 {
		inserted := make([]bool, len(rs))
		pgtest.Race(rs, func(i int, q *queue.Store) {
			var err error
			inserted[i], err = q.Add(ctx, delivery(fmt.Sprint("d", round)))
			assert.NoError(t, err)
		})
		assert.NotEqual(t, inserted[0], inserted[1], "round %d: exactly one stored it", round)
	}
}

func TestPostgresClaimSkipsRowsAnotherReplicaHolds(t *testing.T) {
	dsn := pg.DSN(t)
	q := backends()[1].openQueue(t, dsn, time.Now)
	ctx := context.Background()
	for _, id := range []string{"held", "free"} {
		_, err := q.Add(ctx, delivery(id))
		require.NoError(t, err)
	}
	// Another replica is in the middle of claiming "held".
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `SELECT id FROM queue_jobs WHERE key = 'held' FOR UPDATE`)
	require.NoError(t, err)

	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := q.Claim(wait, "webhook", time.Now(), 10, queue.Lease{Worker: "w1", Until: time.Now().Add(time.Minute)})
	require.NoError(t, err, "a claim does not wait for rows another replica holds")
	assert.Equal(t, []string{"free"}, keys(got))
}

func TestPostgresAfterClose(t *testing.T) {
	st, err := store.OpenPostgres(context.Background(), pg.DSN(t), store.PostgresOptions{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	_, err = st.Queue().Add(context.Background(), delivery("x"))
	assert.ErrorContains(t, err, "add job webhook/x")
}
