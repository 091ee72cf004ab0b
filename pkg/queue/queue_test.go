package queue_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/pgtest"
	"github.com/modelgate/modelgate/internal/testclock"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pg is the package's PostgreSQL server, started by the first test that
// asks for a database.
var pg pgtest.Server

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// clock is the tests' clock, moved on by hand.
type clock = testclock.Clock

// backend is one database the contract tests run against.
type backend struct {
	name string
	dsn  func(t testing.TB) string // a fresh, empty database
	open func(ctx context.Context, dsn string, now func() time.Time) (store.Store, error)
}

func backends() []backend {
	return []backend{
		{
			name: "sqlite",
			dsn:  func(t testing.TB) string { return filepath.Join(t.TempDir(), "q.db") },
			open: func(ctx context.Context, dsn string, now func() time.Time) (store.Store, error) {
				return store.OpenSQLite(ctx, dsn, store.SQLiteOptions{Now: now})
			},
		},
		{
			name: "postgres",
			dsn:  func(t testing.TB) string { return pg.DSN(t) },
			open: func(ctx context.Context, dsn string, now func() time.Time) (store.Store, error) {
				return store.OpenPostgres(ctx, dsn, store.PostgresOptions{Now: now})
			},
		},
	}
}

// openQueue opens the queue of a store on dsn, closed when t ends.
func (b backend) openQueue(t testing.TB, dsn string, now func() time.Time) *queue.Store {
	t.Helper()
	st, err := b.open(context.Background(), dsn, now)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st.Queue()
}

// eachQueue runs test against a fresh queue of every backend, with a test
// clock.
func eachQueue(t *testing.T, test func(t *testing.T, q *queue.Store, c *clock)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := testclock.New(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
			test(t, b.openQueue(t, b.dsn(t), c.Now), c)
		})
	}
}

func delivery(id string) queue.Job {
	return queue.Job{Queue: "webhook", Kind: "issue_comment", Key: id, Payload: []byte(`{"id":"` + id + `"}`)}
}

func lease(worker string, c *clock, d time.Duration) queue.Lease {
	return queue.Lease{Worker: worker, Until: c.Now().Add(d)}
}

func keys(jobs []queue.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Key)
	}
	return out
}

func TestAddStoresAKeyOnce(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		ins, err := q.Add(ctx, delivery("a"))
		require.NoError(t, err)
		assert.True(t, ins)
		again := delivery("a")
		again.Payload = []byte(`{"x":2}`)
		ins, err = q.Add(ctx, again)
		require.NoError(t, err)
		assert.False(t, ins, "a redelivery is not stored twice")
		got, err := q.Get(ctx, "webhook", "a")
		require.NoError(t, err)
		assert.JSONEq(t, `{"id":"a"}`, string(got.Payload))
		assert.Equal(t, queue.Pending, got.State)
		assert.Equal(t, c.Now(), got.CreatedAt)

		// Done, and redelivered days later: still a no-op.
		jobs, err := q.Claim(ctx, "webhook", c.Now(), 10, lease("w", c, time.Minute))
		require.NoError(t, err)
		require.NoError(t, q.Complete(ctx, "w", []queue.Outcome{{ID: jobs[0].ID}}))
		c.Add(72 * time.Hour)
		ins, err = q.Add(ctx, delivery("a"))
		require.NoError(t, err)
		assert.False(t, ins, "a redelivery of a done delivery is not stored again")
		other := delivery("a")
		other.Kind = "pull_request"
		ins, err = q.Add(ctx, other)
		require.NoError(t, err)
		assert.False(t, ins, "a key is taken in its queue, whatever the kind")

		_, err = q.Add(ctx, queue.Job{Queue: "webhook", Kind: "x"})
		assert.ErrorContains(t, err, "queue, kind and key are required")
		_, err = q.Get(ctx, "webhook", "nope")
		assert.ErrorIs(t, err, queue.ErrNotFound)
	})
}

func TestAddConcurrentBurst(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, _ *clock) {
		ctx := context.Background()
		var wg sync.WaitGroup
		inserted := make([]bool, 400)
		for i := range 400 {
			wg.Go(func() {
				ok, err := q.Add(ctx, delivery(fmt.Sprint("d", i%200)))
				assert.NoError(t, err)
				inserted[i] = ok
			})
		}
		wg.Wait()
		n := 0
		for _, ok := range inserted {
			if ok {
				n++
			}
		}
		assert.Equal(t, 200, n, "each key inserted exactly once")
		st, err := q.Stats(ctx, "webhook")
		require.NoError(t, err)
		assert.Equal(t, 200, st.ByState[queue.Pending])
	})
}

func TestClaimCompleteRetryAndLease(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		for _, id := range []string{"a", "b", "c"} {
			_, err := q.Add(ctx, delivery(id))
			require.NoError(t, err)
			c.Add(time.Millisecond)
		}
		got, err := q.Claim(ctx, "webhook", c.Now(), 2, lease("w1", c, time.Minute))
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b"}, keys(got))
		assert.Equal(t, 1, got[0].Attempts)
		assert.Equal(t, queue.Running, got[0].State)
		assert.JSONEq(t, `{"id":"a"}`, string(got[0].Payload))

		more, err := q.Claim(ctx, "webhook", c.Now(), 10, lease("w2", c, time.Minute))
		require.NoError(t, err)
		require.Equal(t, []string{"c"}, keys(more), "leased jobs are not claimed twice")
		none, err := q.Claim(ctx, "rollout", c.Now(), 10, lease("w2", c, time.Minute))
		require.NoError(t, err)
		assert.Empty(t, none, "a claim takes its own queue's jobs")

		require.NoError(t, q.Complete(ctx, "w1", []queue.Outcome{
			{ID: got[0].ID},
			{ID: got[1].ID, Err: errors.New("github 502"), RetryAt: c.Now().Add(time.Minute)},
		}))
		// w2 dies: its lease runs out and c comes back, with b's retry.
		none, err = q.Claim(ctx, "webhook", c.Now(), 10, lease("w3", c, time.Minute))
		require.NoError(t, err)
		assert.Empty(t, none)
		c.Add(2 * time.Minute)
		again, err := q.Claim(ctx, "webhook", c.Now(), 10, lease("w3", c, time.Minute))
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"b", "c"}, keys(again))
		err = q.Complete(ctx, "w2", []queue.Outcome{{ID: more[0].ID}})
		assert.ErrorIs(t, err, queue.ErrLeaseLost, "the dead worker's late completion is refused")
		ids := map[string]int64{again[0].Key: again[0].ID, again[1].Key: again[1].ID}
		require.NoError(t, q.Complete(ctx, "w3", []queue.Outcome{{ID: ids["b"]}, {ID: ids["c"], Err: errors.New("bad payload")}}))

		st, err := q.Stats(ctx, "webhook")
		require.NoError(t, err)
		assert.Equal(t, map[queue.State]int{queue.Done: 2, queue.Failed: 1}, st.ByState)
		assert.Zero(t, st.CompletedTwice)
		b, err := q.Get(ctx, "webhook", "b")
		require.NoError(t, err)
		assert.Equal(t, 2, b.Attempts)
		assert.Equal(t, 1, b.Completions)
		cc, err := q.Get(ctx, "webhook", "c")
		require.NoError(t, err)
		assert.Equal(t, "bad payload", cc.LastError)
		assert.Equal(t, c.Now(), cc.DoneAt)
	})
}

func TestAddLeased(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		id, ins, err := q.AddLeased(ctx, delivery("m"), lease("mem", c, time.Minute))
		require.NoError(t, err)
		assert.True(t, ins)
		assert.NotZero(t, id)
		again, ins, err := q.AddLeased(ctx, delivery("m"), lease("mem", c, time.Minute))
		require.NoError(t, err)
		assert.False(t, ins)
		assert.Zero(t, again)
		got, err := q.Claim(ctx, "webhook", c.Now(), 10, lease("other", c, time.Minute))
		require.NoError(t, err)
		assert.Empty(t, got, "leased at insert")
		m, err := q.Get(ctx, "webhook", "m")
		require.NoError(t, err)
		assert.Equal(t, id, m.ID)
		assert.Equal(t, 1, m.Attempts, "the hand-over is the first attempt")
		require.NoError(t, q.Complete(ctx, "mem", []queue.Outcome{{ID: m.ID}}))
		m, err = q.Get(ctx, "webhook", "m")
		require.NoError(t, err)
		assert.Equal(t, queue.Done, m.State)
		assert.Equal(t, 1, m.Completions)

		// A worker that dies with it in memory: the lease runs out.
		_, _, err = q.AddLeased(ctx, delivery("lost"), lease("dead", c, time.Minute))
		require.NoError(t, err)
		c.Add(2 * time.Minute)
		got, err = q.Claim(ctx, "webhook", c.Now(), 10, lease("other", c, time.Minute))
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.JSONEq(t, `{"id":"lost"}`, string(got[0].Payload))
		assert.Equal(t, 2, got[0].Attempts)
		assert.True(t, got[0].TakenOver(), "claimed from a lapsed lease")
		assert.Equal(t, queue.TakenOverFrom+"dead", got[0].LastError)
		m, err = q.Get(ctx, "webhook", "m")
		require.NoError(t, err)
		assert.False(t, m.TakenOver(), "a job claimed as usual was not taken over")
		_, _, err = q.AddLeased(ctx, delivery("x"), queue.Lease{})
		assert.ErrorContains(t, err, "a lease without a worker")
	})
}

func TestHoldersCountsTheRunningJobsOfEachWorker(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		for _, k := range []string{"a", "b", "c"} {
			_, err := q.Add(ctx, delivery(k))
			require.NoError(t, err)
		}
		_, _, err := q.AddLeased(ctx, delivery("m"), lease("w2", c, time.Minute))
		require.NoError(t, err)
		got, err := q.Claim(ctx, "webhook", c.Now(), 2, lease("w1", c, time.Minute))
		require.NoError(t, err)
		require.Len(t, got, 2)
		held, err := q.Holders(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"w1": 2, "w2": 1}, held)
		require.NoError(t, q.Complete(ctx, "w1", []queue.Outcome{{ID: got[0].ID}, {ID: got[1].ID}}))
		held, err = q.Holders(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"w2": 1}, held, "done jobs are held by no one")
	})
}

func TestBacklogsByQueueAndKind(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		for _, k := range []string{"a", "b", "c"} {
			_, err := q.Add(ctx, delivery(k))
			require.NoError(t, err)
		}
		_, err := q.Schedule(ctx, queue.Job{Queue: "rollout", Kind: "rollout.analysis", Key: "1", DueAt: c.Now().Add(time.Minute)})
		require.NoError(t, err)
		c.Add(30 * time.Second)
		_, err = q.Claim(ctx, "webhook", c.Now(), 1, lease("w", c, time.Minute))
		require.NoError(t, err)
		got, err := q.Backlogs(ctx)
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, queue.Backlog{Queue: "rollout", Kind: "rollout.analysis", Pending: 1}, got[0], "not due yet")
		assert.Equal(t, "webhook", got[1].Queue)
		assert.Equal(t, 2, got[1].Pending)
		assert.Equal(t, 1, got[1].Running)
		assert.Equal(t, 2, got[1].Due)
		assert.Equal(t, 30*time.Second, got[1].OldestDue, "due since they were added")
	})
}

func TestExtendKeepsALeaseAndReportsLostOnes(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		for _, id := range []string{"a", "b"} {
			_, err := q.Add(ctx, delivery(id))
			require.NoError(t, err)
		}
		held, err := q.Claim(ctx, "webhook", c.Now(), 10, lease("w1", c, 10*time.Second))
		require.NoError(t, err)
		require.Len(t, held, 2)
		ids := []int64{held[0].ID, held[1].ID}

		// w1 renews a's lease but not b's; both would have run out.
		c.Add(8 * time.Second)
		lost, err := q.Extend(ctx, ids[:1], lease("w1", c, 10*time.Second))
		require.NoError(t, err)
		assert.Empty(t, lost)
		c.Add(5 * time.Second)
		taken, err := q.Claim(ctx, "webhook", c.Now(), 10, lease("w2", c, 10*time.Second))
		require.NoError(t, err)
		require.Equal(t, []string{"b"}, keys(taken), "a renewed lease holds; the other is taken over")

		lost, err = q.Extend(ctx, ids, lease("w1", c, 10*time.Second))
		require.NoError(t, err)
		assert.Equal(t, ids[1:], lost, "w1 learns it lost b")
		err = q.Complete(ctx, "w1", []queue.Outcome{{ID: ids[0]}, {ID: ids[1]}})
		assert.ErrorIs(t, err, queue.ErrLeaseLost)
		assert.ErrorContains(t, err, fmt.Sprint(ids[1]))
		a, err := q.Get(ctx, "webhook", "a")
		require.NoError(t, err)
		assert.Equal(t, queue.Done, a.State, "the outcomes of jobs still held are recorded")
		lost, err = q.Extend(ctx, ids[:1], lease("w1", c, 10*time.Second))
		require.NoError(t, err)
		assert.Equal(t, ids[:1], lost, "a finished job is no longer held")
	})
}

func TestScheduleMovesThePendingJob(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		job := queue.Job{Queue: "rollout", Kind: "rollout.analysis", Key: "7", DueAt: c.Now().Add(time.Minute), Payload: []byte("1")}
		id1, err := q.Schedule(ctx, job)
		require.NoError(t, err)
		job.DueAt, job.Payload = c.Now().Add(2*time.Minute), []byte("2")
		id2, err := q.Schedule(ctx, job)
		require.NoError(t, err)
		assert.Equal(t, id1, id2, "one pending job per kind and key")
		got, err := q.Claim(ctx, "rollout", c.Now().Add(90*time.Second), 10, lease("w", c, time.Hour))
		require.NoError(t, err)
		assert.Empty(t, got, "moved to the later time")
		got, err = q.Claim(ctx, "rollout", c.Now().Add(2*time.Minute), 10, lease("w", c, time.Hour))
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, []byte("2"), got[0].Payload)
		require.NoError(t, q.Complete(ctx, "w", []queue.Outcome{{ID: got[0].ID}}))
		id3, err := q.Schedule(ctx, job)
		require.NoError(t, err)
		assert.NotEqual(t, id1, id3, "a done job does not block the next")
	})
}

func TestClaimNeverRunsTwinsAtOnce(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		effects := func(key string) queue.Job {
			return queue.Job{Queue: "rollout", Kind: "rollout.effects", Key: key, DueAt: c.Now()}
		}
		claim := func(worker string) []queue.Job {
			t.Helper()
			jobs, err := q.Claim(ctx, "rollout", c.Now(), 10, lease(worker, c, time.Minute))
			require.NoError(t, err)
			return jobs
		}
		first, err := q.Schedule(ctx, effects("7"))
		require.NoError(t, err)
		got := claim("a")
		require.Len(t, got, 1)
		assert.Equal(t, first, got[0].ID)

		// The engine schedules the next effects while the first run goes on.
		twin, err := q.Schedule(ctx, effects("7"))
		require.NoError(t, err)
		other, err := q.Schedule(ctx, effects("8"))
		require.NoError(t, err)
		got = claim("b")
		require.Len(t, got, 1, "the twin waits while its kind and key run")
		assert.Equal(t, other, got[0].ID)
		require.NoError(t, q.Complete(ctx, "b", []queue.Outcome{{ID: other}}))
		analysis := effects("7")
		analysis.Kind = "rollout.analysis"
		_, err = q.Schedule(ctx, analysis)
		require.NoError(t, err)
		got = claim("b")
		require.Len(t, got, 1, "another kind of the same key runs")
		assert.Equal(t, "rollout.analysis", got[0].Kind)
		require.NoError(t, q.Complete(ctx, "b", []queue.Outcome{{ID: got[0].ID}}))

		// Worker a dies: its lease runs out. The running job is claimed
		// again first, and its pending twin still waits.
		c.Add(2 * time.Minute)
		got = claim("c")
		require.Len(t, got, 1, "one job per kind and key")
		assert.Equal(t, first, got[0].ID)
		assert.Equal(t, 2, got[0].Attempts)
		assert.Empty(t, claim("d"))

		require.NoError(t, q.Complete(ctx, "c", []queue.Outcome{{ID: first}}))
		got = claim("d")
		require.Len(t, got, 1, "the twin runs once the first has finished")
		assert.Equal(t, twin, got[0].ID)
		assert.Equal(t, 1, got[0].Attempts)
	})
}

// A job that fails while its twin waits: the twin stands for both, at its
// own time, and no second pending job appears.
func TestRetryLeavesItToThePendingTwin(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		job := queue.Job{Queue: "rollout", Kind: "rollout.analysis", Key: "7", DueAt: c.Now(), Payload: []byte("look 1")}
		_, err := q.Schedule(ctx, job)
		require.NoError(t, err)
		running, err := q.Claim(ctx, "rollout", c.Now(), 10, lease("w", c, time.Minute))
		require.NoError(t, err)
		require.Len(t, running, 1)
		job.DueAt, job.Payload = c.Now().Add(time.Hour), []byte("look 2")
		twin, err := q.Schedule(ctx, job)
		require.NoError(t, err)
		require.NoError(t, q.Complete(ctx, "w", []queue.Outcome{{ID: running[0].ID, Err: errors.New("github 502"),
			RetryAt: c.Now().Add(time.Minute)}}))
		got, err := q.Claim(ctx, "rollout", c.Now().Add(time.Minute), 10, lease("w", c, time.Minute))
		require.NoError(t, err)
		assert.Empty(t, got, "the twin keeps its time")
		got, err = q.Claim(ctx, "rollout", c.Now().Add(time.Hour), 10, lease("w", c, time.Minute))
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, twin, got[0].ID)
		assert.Equal(t, []byte("look 2"), got[0].Payload)
		st, err := q.Stats(ctx, "rollout")
		require.NoError(t, err)
		assert.Equal(t, map[queue.State]int{queue.Failed: 1, queue.Running: 1}, st.ByState)
	})
}

func TestClaimBatchHasOneJobPerKey(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		// An expired running job and its pending twin, due together with
		// jobs of other keys and another kind of the same key.
		stuck, err := q.Schedule(ctx, queue.Job{Queue: "rollout", Kind: "k", Key: "1", DueAt: c.Now()})
		require.NoError(t, err)
		_, err = q.Claim(ctx, "rollout", c.Now(), 10, lease("dead", c, time.Minute))
		require.NoError(t, err)
		for _, j := range []queue.Job{{Kind: "k", Key: "1"}, {Kind: "k", Key: "2"}, {Kind: "other", Key: "1"}} {
			j.Queue, j.DueAt = "rollout", c.Now()
			_, err := q.Schedule(ctx, j)
			require.NoError(t, err)
		}
		c.Add(2 * time.Minute)
		got, err := q.Claim(ctx, "rollout", c.Now(), 10, lease("w", c, time.Minute))
		require.NoError(t, err)
		require.Len(t, got, 3)
		seen := map[string]int64{}
		for _, j := range got {
			key := j.Kind + "/" + j.Key
			_, twice := seen[key]
			assert.False(t, twice, "two jobs of %s in one claim", key)
			seen[key] = j.ID
		}
		assert.Equal(t, stuck, seen["k/1"], "the expired running job goes first")
	})
}

func TestCancel(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		job := func(key string) queue.Job {
			return queue.Job{Queue: "rollout", Kind: "rollout.effects", Key: key, DueAt: c.Now(), Payload: []byte("p")}
		}
		running, err := q.Schedule(ctx, job("7"))
		require.NoError(t, err)
		_, err = q.Claim(ctx, "rollout", c.Now(), 10, lease("w", c, time.Minute))
		require.NoError(t, err)
		_, err = q.Schedule(ctx, job("7"))
		require.NoError(t, err)
		_, err = q.Schedule(ctx, job("8"))
		require.NoError(t, err)

		n, err := q.Cancel(ctx, "rollout", "rollout.effects", "7")
		require.NoError(t, err)
		assert.Equal(t, 1, n, "only the pending job goes")
		n, err = q.Cancel(ctx, "rollout", "rollout.effects", "7")
		require.NoError(t, err)
		assert.Zero(t, n)
		require.NoError(t, q.Complete(ctx, "w", []queue.Outcome{{ID: running}}), "the running job finishes")

		got, err := q.Claim(ctx, "rollout", c.Now(), 10, lease("w", c, time.Minute))
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "8", got[0].Key)
	})
}
