package githubapp

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type recordingHandler struct {
	mu    sync.Mutex
	seen  []Event
	fails map[string]error
}

func (h *recordingHandler) Handles() []string { return []string{"issue_comment"} }
func (h *recordingHandler) Handle(_ context.Context, e Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, e)
	return h.fails[e.DeliveryID]
}

func TestDispatcherRejectsTwoHandlersForOneEvent(t *testing.T) {
	_, err := NewDispatcher(&recordingHandler{}, &recordingHandler{})
	assert.ErrorContains(t, err, `two handlers for event "issue_comment"`)
}

// The worker takes deliveries from the webhook queue and hands each to
// the handler of its event, as the event it was.
func TestWorkerDispatchesDeliveries(t *testing.T) {
	h := &recordingHandler{fails: map[string]error{"bad": Permanent(errors.New("malformed payload"))}}
	d, err := NewDispatcher(h)
	require.NoError(t, err)
	w := NewWorker(nil, d)
	assert.Equal(t, DeliveryQueue, w.Queue)
	job := DeliveryJob("issue_comment", "d1", []byte(`{"action":"created"}`), time.Now())
	require.NoError(t, w.Handle(context.Background(), job))
	assert.Equal(t, []Event{{Type: "issue_comment", DeliveryID: "d1", Payload: []byte(`{"action":"created"}`)}}, h.seen)

	err = w.Handle(context.Background(), DeliveryJob("star", "d2", []byte(`{}`), time.Now()))
	assert.ErrorContains(t, err, `no handler for event "star"`)
	permanent, _ := w.Classify(err)
	assert.True(t, permanent, "an event without a handler fails for good")
	permanent, _ = w.Classify(w.Handle(context.Background(), DeliveryJob("issue_comment", "bad", nil, time.Now())))
	assert.True(t, permanent)
}

func TestWorkerRetriesWhenGitHubSaysSo(t *testing.T) {
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	wait := 90 * time.Second
	tests := []struct {
		name      string
		err       error
		permanent bool
		notBefore time.Time
	}{
		{"transient", errors.New("github 502"), false, time.Time{}},
		{"permanent", Permanent(errors.New("deleted PR")), true, time.Time{}},
		{"retry after", &RetryAfterError{Err: errors.New("limited"), At: reset}, false, reset},
		{"primary rate limit", &github.RateLimitError{Rate: github.Rate{Reset: github.Timestamp{Time: reset}}}, false, reset},
		{"secondary rate limit", &github.AbuseRateLimitError{RetryAfter: &wait}, false, time.Now().Add(wait)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			permanent, notBefore := classify(tt.err)
			assert.Equal(t, tt.permanent, permanent)
			assert.WithinDuration(t, tt.notBefore, notBefore, 5*time.Second)
		})
	}
	now := time.Unix(1_800_000_000, 0)
	_, notBefore := classify(&RetryAfterError{Err: errors.New("limited"), At: now.Add(time.Hour)})
	assert.Equal(t, now.Add(time.Hour), queue.Backoff{}.RetryAt(now, 1, false, notBefore), "the reset wins over the backoff")
}

func TestWorkerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewWorkerMetrics(reg)
	m.Holding(3)
	m.Ran(DeliveryJob("issue_comment", "d1", nil, time.Now()), "done", time.Millisecond)
	m.Ran(DeliveryJob("issue_comment", "d2", nil, time.Now()), "lost", time.Millisecond)
	m.Holding(-2)
	assert.Equal(t, 1.0, testutil.ToFloat64(m.backlog))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.processed.WithLabelValues("issue_comment", "lost")))
}
