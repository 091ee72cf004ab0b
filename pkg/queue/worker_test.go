package queue_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a job handler that remembers the keys it ran and fails
// those in fails.
type recorder struct {
	mu    sync.Mutex
	seen  []string
	fails map[string]error
}

func (r *recorder) handle(_ context.Context, j queue.Job) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, j.Key)
	return r.fails[j.Key]
}

func (r *recorder) ran() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

var errPermanent = errors.New("malformed payload")

func classify(err error) (bool, time.Time) { return errors.Is(err, errPermanent), time.Time{} }

// running starts w.Run and returns a function that stops it and waits.
func running(t *testing.T, w *queue.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	// Run is ready once a job added is handed over rather than claimed.
	time.Sleep(20 * time.Millisecond)
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func TestWorkerRunsJobsOnceAndRetries(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, c *clock) {
		ctx := context.Background()
		for _, id := range []string{"ok", "flaky", "bad"} {
			_, err := q.Add(ctx, delivery(id))
			require.NoError(t, err)
		}
		h := &recorder{fails: map[string]error{"flaky": errors.New("github 502"), "bad": errPermanent}}
		w := &queue.Worker{Store: q, Queue: "webhook", Handle: h.handle, Classify: classify, Now: c.Now}
		n, err := w.RunOnce(ctx)
		assert.Equal(t, 3, n)
		assert.ErrorContains(t, err, "job webhook/issue_comment/flaky: github 502", "RunOnce says what failed")
		assert.ErrorIs(t, err, errPermanent)
		n, err = w.RunOnce(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "the flaky job waits for its retry")

		flaky, err := q.Get(ctx, "webhook", "flaky")
		require.NoError(t, err)
		assert.Equal(t, queue.Pending, flaky.State)
		assert.Equal(t, c.Now().Add(10*time.Second), flaky.DueAt, "the first wait of the default backoff")
		assert.Equal(t, "github 502", flaky.LastError)
		for id, want := range map[string]queue.State{"ok": queue.Done, "bad": queue.Failed} {
			got, err := q.Get(ctx, "webhook", id)
			require.NoError(t, err)
			assert.Equal(t, want, got.State, id)
		}
		c.Add(10 * time.Second)
		n, err = w.RunOnce(ctx)
		assert.ErrorContains(t, err, "github 502", "and failed again")
		assert.Equal(t, 1, n, "retried when due")
		assert.ElementsMatch(t, []string{"ok", "flaky", "bad", "flaky"}, h.ran())
	})
}

func TestWorkerHandsNewJobsOverInMemory(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, _ *clock) {
		ctx := context.Background()
		h := &recorder{}
		w := &queue.Worker{Store: q, Queue: "webhook", Handle: h.handle, Poll: time.Hour, Concurrency: 2, Batch: 2}
		ins, err := w.Add(ctx, delivery("early"))
		require.NoError(t, err)
		assert.True(t, ins, "before Run, jobs are stored for claiming")
		stop := running(t, w)
		for i := range 20 {
			ins, err := w.Add(ctx, delivery(fmt.Sprint("d", i)))
			require.NoError(t, err)
			assert.True(t, ins)
		}
		ins, err = w.Add(ctx, delivery("d0"))
		require.NoError(t, err)
		assert.False(t, ins, "a redelivery is not handed over again")
		require.Eventually(t, func() bool {
			s, err := q.Stats(ctx, "webhook")
			return err == nil && s.ByState[queue.Done] == 21
		}, 10*time.Second, 5*time.Millisecond)
		stop()
		s, err := q.Stats(ctx, "webhook")
		require.NoError(t, err)
		assert.Zero(t, s.CompletedTwice)
		assert.Len(t, h.ran(), 21)
	})
}

// A job handed over in memory is on its first attempt: a transient failure
// there schedules a retry after the first wait.
func TestWorkerRetriesAFailedHandOver(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, _ *clock) {
		ctx := context.Background()
		h := &recorder{fails: map[string]error{"flaky": errors.New("github 502")}}
		w := &queue.Worker{Store: q, Queue: "webhook", Handle: h.handle, Poll: time.Hour}
		running(t, w)
		ins, err := w.Add(ctx, delivery("flaky"))
		require.NoError(t, err)
		require.True(t, ins)
		require.Eventually(t, func() bool {
			got, err := q.Get(ctx, "webhook", "flaky")
			return err == nil && got.State == queue.Pending
		}, 10*time.Second, 5*time.Millisecond, "the failed first attempt is stored for a retry")
		got, err := q.Get(ctx, "webhook", "flaky")
		require.NoError(t, err)
		assert.True(t, got.DueAt.After(time.Now().Add(5*time.Second)), "retried after the first wait")
		assert.Equal(t, 1, got.Attempts)
	})
}

// A worker that dies holding a job (here: a delivery handed over in memory
// to a process that is gone) loses it within one lease: another worker,
// with the defaults, takes the job over in seconds, not minutes.
func TestWorkerTakesOverTheJobOfADeadWorker(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			q := b.openQueue(t, b.dsn(t), time.Now)
			// As a worker with the defaults leases a job it is handed.
			died := time.Now()
			_, _, err := q.AddLeased(ctx, delivery("orphan"), queue.Lease{Worker: "dead", Until: died.Add(queue.DefaultLease)})
			require.NoError(t, err)

			done := make(chan time.Time, 1)
			w := &queue.Worker{Store: q, Queue: "webhook", Handle: func(context.Context, queue.Job) error {
				done <- time.Now()
				return nil
			}}
			running(t, w)
			select {
			case at := <-done:
				took := at.Sub(died)
				t.Logf("taken over %.1fs after the worker died", took.Seconds())
				assert.Less(t, took, queue.DefaultLease+3*time.Second)
			case <-time.After(queue.DefaultLease + 10*time.Second):
				t.Fatal("the dead worker's job was not taken over")
			}
		})
	}
}

// flakyBeat is a backend whose lease renewals fail.
type flakyBeat struct {
	*queue.Store
}

func (flakyBeat) Extend(context.Context, []int64, queue.Lease) ([]int64, error) {
	return nil, errors.New("database is locked")
}

// A worker that cannot renew a lease stops acting on its job before the
// lease runs out, records nothing for it, and another worker takes it over.
func TestWorkerStopsAJobWhoseLeaseIsLost(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, _ *clock) {
		ctx := context.Background()
		_, err := q.Add(ctx, delivery("long"))
		require.NoError(t, err)
		cause := make(chan error, 1)
		stuck := &queue.Worker{Store: flakyBeat{q}, Queue: "webhook", Lease: 600 * time.Millisecond,
			Handle: func(ctx context.Context, j queue.Job) error {
				<-ctx.Done()
				cause <- context.Cause(ctx)
				return ctx.Err()
			}}
		start := time.Now()
		n, err := stuck.RunOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		assert.ErrorIs(t, <-cause, queue.ErrLeaseLost)
		assert.Less(t, time.Since(start), 2*time.Second, "stopped when the lease ran out, not at the timeout")
		got, err := q.Get(ctx, "webhook", "long")
		require.NoError(t, err)
		assert.Equal(t, queue.Running, got.State, "no outcome recorded by the worker that lost it")
		assert.Empty(t, got.LastError)

		h := &recorder{}
		other := &queue.Worker{Store: q, Queue: "webhook", Handle: h.handle}
		require.Eventually(t, func() bool {
			n, err := other.RunOnce(ctx)
			return err == nil && n == 1
		}, 5*time.Second, 50*time.Millisecond)
		got, err = q.Get(ctx, "webhook", "long")
		require.NoError(t, err)
		assert.Equal(t, queue.Done, got.State)
		assert.Equal(t, 2, got.Attempts)
	})
}

// While a worker runs a long job, its heartbeat keeps the lease: no other
// worker claims the job, however long it takes.
func TestWorkerRenewsTheLeaseOfALongJob(t *testing.T) {
	eachQueue(t, func(t *testing.T, q *queue.Store, _ *clock) {
		ctx := context.Background()
		_, err := q.Add(ctx, delivery("long"))
		require.NoError(t, err)
		release := make(chan struct{})
		started := make(chan struct{})
		slow := &queue.Worker{Store: q, Queue: "webhook", Lease: 300 * time.Millisecond,
			Handle: func(ctx context.Context, j queue.Job) error {
				close(started)
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}}
		result := make(chan error, 1)
		go func() { _, err := slow.RunOnce(ctx); result <- err }()
		<-started
		other := &queue.Worker{Store: q, Queue: "webhook", Handle: func(context.Context, queue.Job) error {
			t.Error("the job ran twice")
			return nil
		}}
		for range 10 { // ten leases long
			n, err := other.RunOnce(ctx)
			require.NoError(t, err)
			require.Zero(t, n)
			time.Sleep(100 * time.Millisecond)
		}
		close(release)
		require.NoError(t, <-result)
		got, err := q.Get(ctx, "webhook", "long")
		require.NoError(t, err)
		assert.Equal(t, queue.Done, got.State)
		assert.Equal(t, 1, got.Attempts)
	})
}
