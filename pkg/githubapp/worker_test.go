package githubapp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/pkg/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type recordingHandler struct {
	mu    sync.Mutex
	seen  []string
	fails map[string]error
}

func (h *recordingHandler) Handles() []string { return []string{"issue_comment"} }
func (h *recordingHandler) Handle(_ context.Context, e Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, e.DeliveryID)
	return h.fails[e.DeliveryID]
}

func TestWorkerProcessesOnceAndRetries(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "q.db"), store.SQLiteOptions{})
	require.NoError(t, err)
	defer st.Close()
	for _, id := range []string{"ok", "flaky", "bad", "orphan"} {
		ev := "issue_comment"
		if id == "orphan" {
			ev = "star"
		}
		_, err := st.EnqueueDelivery(ctx, store.Delivery{ID: id, Event: ev, Payload: []byte("{}")})
		require.NoError(t, err)
	}
	h := &recordingHandler{fails: map[string]error{
		"flaky": errors.New("github 502"),
		"bad":   Permanent(errors.New("malformed payload")),
	}}
	d, err := NewDispatcher(h)
	require.NoError(t, err)
	w := &Worker{Queue: st, Dispatcher: d}
	n, err := w.RunOnce(ctx, "w")
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	n, err = w.RunOnce(ctx, "w")
	require.NoError(t, err)
	assert.Zero(t, n, "the flaky delivery waits for its retry time")

	flaky, err := st.GetDelivery(ctx, "flaky")
	require.NoError(t, err)
	assert.Equal(t, store.DeliveryPending, flaky.State)
	assert.True(t, flaky.NextAttempt.After(time.Now().Add(5*time.Second)))
	for id, want := range map[string]store.DeliveryState{"ok": store.DeliveryDone, "bad": store.DeliveryFailed, "orphan": store.DeliveryFailed} {
		got, err := st.GetDelivery(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, got.State, id)
	}
	assert.ElementsMatch(t, []string{"ok", "flaky", "bad"}, h.seen)
}

func TestDispatcherRejectsTwoHandlersForOneEvent(t *testing.T) {
	_, err := NewDispatcher(&recordingHandler{}, &recordingHandler{})
	assert.ErrorContains(t, err, `two handlers for event "issue_comment"`)
}

func TestRetryAtHonoursRateLimitReset(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	w := &Worker{Now: func() time.Time { return now }}
	at := w.retryAt(1, &RetryAfterError{Err: errors.New("limited"), At: now.Add(time.Hour)})
	assert.Equal(t, now.Add(time.Hour), at)
	assert.Equal(t, now.Add(10*time.Second), w.retryAt(1, errors.New("x")))
	assert.True(t, w.retryAt(5, errors.New("x")).IsZero(), "gives up after MaxAttempts")
}

func TestWorkerHandsNewDeliveriesOverInMemory(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "q.db"), store.SQLiteOptions{})
	require.NoError(t, err)
	defer st.Close()
	h := &recordingHandler{}
	d, err := NewDispatcher(h)
	require.NoError(t, err)
	w := &Worker{Queue: st, Direct: st, Dispatcher: d, Poll: time.Hour, Concurrency: 2, Batch: 2}

	// Before Run, deliveries are stored for claiming.
	ins, err := w.EnqueueDelivery(ctx, store.Delivery{ID: "early", Event: "issue_comment", Payload: []byte("{}")})
	require.NoError(t, err)
	assert.True(t, ins)
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return w.running.Load() }, 5*time.Second, time.Millisecond)
	for i := range 20 {
		ins, err := w.EnqueueDelivery(ctx, store.Delivery{ID: fmt.Sprint("d", i), Event: "issue_comment", Payload: []byte("{}")})
		require.NoError(t, err)
		assert.True(t, ins)
	}
	ins, err = w.EnqueueDelivery(ctx, store.Delivery{ID: "d0", Event: "issue_comment", Payload: []byte("{}")})
	require.NoError(t, err)
	assert.False(t, ins, "a redelivery is not handed over again")
	require.Eventually(t, func() bool {
		s, err := st.DeliveryStats(ctx)
		return err == nil && s.ByState[store.DeliveryDone] == 21
	}, 10*time.Second, 5*time.Millisecond)
	cancel()
	<-done
	s, err := st.DeliveryStats(context.Background())
	require.NoError(t, err)
	assert.Zero(t, s.ProcessedTwice)
	h.mu.Lock()
	assert.Len(t, h.seen, 21)
	h.mu.Unlock()
}

// A delivery handed over in memory is on its first attempt: a transient
// failure there schedules a retry instead of crashing the process.
func TestWorkerRetriesAFailedHandOver(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "q.db"), store.SQLiteOptions{})
	require.NoError(t, err)
	defer st.Close()
	h := &recordingHandler{fails: map[string]error{"flaky": errors.New("github 502")}}
	d, err := NewDispatcher(h)
	require.NoError(t, err)
	w := &Worker{Queue: st, Direct: st, Dispatcher: d, Poll: time.Hour}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return w.running.Load() }, 5*time.Second, time.Millisecond)

	ins, err := w.EnqueueDelivery(ctx, store.Delivery{ID: "flaky", Event: "issue_comment", Payload: []byte("{}")})
	require.NoError(t, err)
	require.True(t, ins)
	require.Eventually(t, func() bool {
		got, err := st.GetDelivery(ctx, "flaky")
		return err == nil && got.State == store.DeliveryPending
	}, 10*time.Second, 5*time.Millisecond, "the failed first attempt is stored for a retry")
	got, err := st.GetDelivery(ctx, "flaky")
	require.NoError(t, err)
	assert.True(t, got.NextAttempt.After(time.Now().Add(5*time.Second)), "retried after the first backoff")
	cancel()
	<-done
}

func TestRetryAtBeforeAnyCountedAttempt(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	w := &Worker{Now: func() time.Time { return now }}
	assert.Equal(t, now.Add(10*time.Second), w.retryAt(0, errors.New("x")), "a first attempt not yet counted waits the first backoff")
}
