package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// backend is one implementation the contract tests run against.
type backend struct {
	name string
	dsn  func(t testing.TB) string // a fresh, empty database
	open func(ctx context.Context, dsn string, now func() time.Time) (Store, error)
}

func backends() []backend {
	return []backend{
		{
			name: "sqlite",
			dsn:  func(t testing.TB) string { return filepath.Join(t.TempDir(), "test.db") },
			open: func(ctx context.Context, dsn string, now func() time.Time) (Store, error) {
				return OpenSQLite(ctx, dsn, SQLiteOptions{Now: now})
			},
		},
		{
			name: "postgres",
			dsn:  func(t testing.TB) string { return pg.DSN(t) },
			open: func(ctx context.Context, dsn string, now func() time.Time) (Store, error) {
				return OpenPostgres(ctx, dsn, PostgresOptions{Now: now})
			},
		},
	}
}

// eachStore runs test against a fresh store of every backend, all sharing
// one test clock.
func eachStore(t *testing.T, test func(t *testing.T, s Store, c *clock)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
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
			_, err = s.EnqueueDelivery(ctx, Delivery{ID: "d1", Event: "ping", Payload: []byte("{}")})
			require.NoError(t, err)
			_, err = s.LockEnvironment(ctx, Lock{Repo: "o/r", Environment: "production", LockedBy: "alice"})
			require.NoError(t, err)
			require.NoError(t, s.Close())

			s, err = b.open(ctx, dsn, time.Now)
			require.NoError(t, err)
			defer s.Close()
			d, err := s.GetDelivery(ctx, "d1")
			require.NoError(t, err)
			assert.Equal(t, "ping", d.Event)
			held, err := s.LockEnvironment(ctx, Lock{Repo: "o/r", Environment: "production", LockedBy: "bob"})
			assert.ErrorIs(t, err, ErrLocked, "locks survive a restart")
			assert.Equal(t, "alice", held.LockedBy)
			require.NoError(t, s.Ping(ctx))
		})
	}
}

func TestEnqueueDeliveryDeduplicates(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, _ *clock) {
		ctx := context.Background()
		ins, err := s.EnqueueDelivery(ctx, Delivery{ID: "a", Event: "issue_comment", Payload: []byte(`{"x":1}`)})
		require.NoError(t, err)
		assert.True(t, ins)
		ins, err = s.EnqueueDelivery(ctx, Delivery{ID: "a", Event: "issue_comment", Payload: []byte(`{"x":2}`)})
		require.NoError(t, err)
		assert.False(t, ins, "a redelivery is not stored twice")
		d, err := s.GetDelivery(ctx, "a")
		require.NoError(t, err)
		assert.JSONEq(t, `{"x":1}`, string(d.Payload))

		_, err = s.EnqueueDelivery(ctx, Delivery{Event: "x"})
		assert.ErrorContains(t, err, "empty id")
		_, err = s.GetDelivery(ctx, "nope")
		assert.ErrorIs(t, err, ErrNotFound)
	})
}

func TestEnqueueDeliveryConcurrentBurst(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, _ *clock) {
		ctx := context.Background()
		var wg sync.WaitGroup
		inserted := make([]bool, 400)
		for i := range 400 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.EnqueueDelivery(ctx, Delivery{ID: fmt.Sprint("d", i%200), Event: "ping", Payload: []byte("{}")})
				assert.NoError(t, err)
				inserted[i] = ok
			}()
		}
		wg.Wait()
		n := 0
		for _, ok := range inserted {
			if ok {
				n++
			}
		}
		assert.Equal(t, 200, n, "each id inserted exactly once")
		st, err := s.DeliveryStats(ctx)
		require.NoError(t, err)
		assert.Equal(t, 200, st.ByState[DeliveryPending])
	})
}

func TestClaimCompleteRetryAndLease(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, c *clock) {
		ctx := context.Background()
		for _, id := range []string{"a", "b", "c"} {
			_, err := s.EnqueueDelivery(ctx, Delivery{ID: id, Event: "e", Payload: []byte("{}")})
			require.NoError(t, err)
			c.Add(time.Millisecond)
		}
		got, err := s.ClaimDeliveries(ctx, "w1", 2, time.Minute)
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, []string{"a", "b"}, []string{got[0].ID, got[1].ID})
		assert.Equal(t, 1, got[0].Attempts)

		more, err := s.ClaimDeliveries(ctx, "w2", 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, more, 1, "leased deliveries are not claimed twice")
		assert.Equal(t, "c", more[0].ID)

		require.NoError(t, s.CompleteDeliveries(ctx, "w1", []DeliveryOutcome{
			{ID: "a"},
			{ID: "b", Err: errors.New("github 502"), RetryAt: c.Now().Add(time.Minute)},
		}))
		// w2 dies: its lease runs out and c comes back.
		none, err := s.ClaimDeliveries(ctx, "w3", 10, time.Minute)
		require.NoError(t, err)
		assert.Empty(t, none)
		c.Add(2 * time.Minute)
		again, err := s.ClaimDeliveries(ctx, "w3", 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, again, 2)
		// The dead worker's late completion is ignored.
		require.NoError(t, s.CompleteDeliveries(ctx, "w2", []DeliveryOutcome{{ID: "c"}}))
		require.NoError(t, s.CompleteDeliveries(ctx, "w3", []DeliveryOutcome{{ID: "b"}, {ID: "c", Err: errors.New("bad payload")}}))

		st, err := s.DeliveryStats(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[DeliveryState]int{DeliveryDone: 2, DeliveryFailed: 1}, st.ByState)
		assert.Zero(t, st.ProcessedTwice)
		b, err := s.GetDelivery(ctx, "b")
		require.NoError(t, err)
		assert.Equal(t, 2, b.Attempts)
		assert.Equal(t, 1, b.Processed)
		cc, err := s.GetDelivery(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, "bad payload", cc.LastError)
	})
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
		require.NoError(t, s.UpdateRollout(ctx, first))
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
		assert.ErrorIs(t, s.UpdateRollout(ctx, Rollout{ID: 999}), ErrNotFound)
	})
}

func TestJobs(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, c *clock) {
		ctx := context.Background()
		id1, err := s.ScheduleJob(ctx, Job{Kind: "analyse", Key: "r1", DueAt: c.Now().Add(time.Minute)})
		require.NoError(t, err)
		id2, err := s.ScheduleJob(ctx, Job{Kind: "analyse", Key: "r1", DueAt: c.Now().Add(2 * time.Minute), Payload: []byte("x")})
		require.NoError(t, err)
		assert.Equal(t, id1, id2, "one pending job per kind and key")
		jobs, err := s.ClaimDueJobs(ctx, "w", c.Now(), 10, time.Minute)
		require.NoError(t, err)
		assert.Empty(t, jobs)
		jobs, err = s.ClaimDueJobs(ctx, "w", c.Now().Add(3*time.Minute), 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		assert.Equal(t, []byte("x"), jobs[0].Payload)
		require.NoError(t, s.CompleteJob(ctx, "w", jobs[0].ID, nil))
		id3, err := s.ScheduleJob(ctx, Job{Kind: "analyse", Key: "r1", DueAt: c.Now()})
		require.NoError(t, err)
		assert.NotEqual(t, id1, id3, "a done job does not block the next")

		// A worker whose lease ran out cannot complete a job another holds.
		late := c.Now().Add(10 * time.Minute)
		first, err := s.ClaimDueJobs(ctx, "slow", late, 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, first, 1)
		second, err := s.ClaimDueJobs(ctx, "fast", late.Add(2*time.Minute), 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, second, 1, "the lease ran out: the job is claimed again")
		assert.ErrorIs(t, s.CompleteJob(ctx, "slow", first[0].ID, nil), ErrLeaseLost)
		require.NoError(t, s.CompleteJob(ctx, "fast", second[0].ID, errors.New("boom")))
		assert.ErrorIs(t, s.CompleteJob(ctx, "fast", second[0].ID, nil), ErrLeaseLost, "completed once")
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
	})
}

func TestEnqueueClaimedDelivery(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store, c *clock) {
		ctx := context.Background()
		ins, err := s.EnqueueClaimedDelivery(ctx, Delivery{ID: "m", Event: "e", Payload: []byte("{}")}, "mem", time.Minute)
		require.NoError(t, err)
		assert.True(t, ins)
		ins, err = s.EnqueueClaimedDelivery(ctx, Delivery{ID: "m", Event: "e"}, "mem", time.Minute)
		require.NoError(t, err)
		assert.False(t, ins)
		got, err := s.ClaimDeliveries(ctx, "other", 10, time.Minute)
		require.NoError(t, err)
		assert.Empty(t, got, "leased at insert")
		require.NoError(t, s.CompleteDeliveries(ctx, "mem", []DeliveryOutcome{{ID: "m"}}))
		d, err := s.GetDelivery(ctx, "m")
		require.NoError(t, err)
		assert.Equal(t, DeliveryDone, d.State)
		assert.Equal(t, 1, d.Processed)

		// A worker that dies with it in memory: the lease runs out.
		_, err = s.EnqueueClaimedDelivery(ctx, Delivery{ID: "lost", Event: "e", Payload: []byte("{}")}, "dead", time.Minute)
		require.NoError(t, err)
		c.Add(2 * time.Minute)
		got, err = s.ClaimDeliveries(ctx, "other", 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, []byte("{}"), got[0].Payload)
		_, err = s.EnqueueClaimedDelivery(ctx, Delivery{ID: "x"}, "", time.Minute)
		assert.ErrorContains(t, err, "empty id or worker")
	})
}
