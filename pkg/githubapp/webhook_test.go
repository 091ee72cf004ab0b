package githubapp

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type memQueue struct {
	mu   sync.Mutex
	seen map[string]queue.Job
	err  error
}

func (q *memQueue) Add(_ context.Context, d queue.Job) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return false, q.err
	}
	if q.seen == nil {
		q.seen = map[string]queue.Job{}
	}
	if _, ok := q.seen[d.Key]; ok {
		return false, nil
	}
	q.seen[d.Key] = d
	return true, nil
}

const secret = "s3cret"

func request(body []byte, event, id, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	if event != "" {
		r.Header.Set("X-GitHub-Event", event)
	}
	if id != "" {
		r.Header.Set("X-GitHub-Delivery", id)
	}
	if sig != "" {
		r.Header.Set("X-Hub-Signature-256", sig)
	}
	return r
}

func TestWebhookHandler(t *testing.T) {
	good := []byte(`{"action":"created"}`)
	sign := func(b []byte) string { return Sign([]byte(secret), b) }
	big := bytes.Repeat([]byte("a"), 2048)
	tests := []struct {
		name   string
		req    *http.Request
		status int
		body   string
		stored bool
	}{
		{"stored", request(good, "issue_comment", "d1", sign(good)), 202, "queued", true},
		{"missing signature", request(good, "issue_comment", "d2", ""), 401, "missing X-Hub-Signature-256", false},
		{"wrong signature", request(good, "issue_comment", "d3", Sign([]byte("other"), good)), 401, "does not match", false},
		{"signature not hex", request(good, "issue_comment", "d4", "sha256=zz"), 401, "does not match", false},
		{"sha1 signature", request(good, "issue_comment", "d5", "sha1=abc"), 401, "does not match", false},
		{"body too large", request(big, "issue_comment", "d6", sign(big)), 413, "over the 1024-byte limit", false},
		{"malformed JSON", request([]byte(`{"a":`), "issue_comment", "d7", sign([]byte(`{"a":`))), 400, "malformed JSON", false},
		{"not an object", request([]byte(`[1]`), "issue_comment", "d10", sign([]byte(`[1]`))), 400, "malformed JSON", false},
		{"empty body", request(nil, "issue_comment", "d11", sign(nil)), 400, "malformed JSON", false},
		// Signed JSON is parsed by the handler, which fails the delivery for good if it must.
		{"broken inside", request([]byte(`{"a":}`), "issue_comment", "d12", sign([]byte(`{"a":}`))), 202, "queued", true},
		{"no delivery id", request(good, "issue_comment", "", sign(good)), 400, "X-GitHub-Delivery", false},
		{"unhandled event", request(good, "star", "d8", sign(good)), 202, "ignored", false},
		{"ping", request(good, "ping", "d9", sign(good)), 200, "pong", false},
		{"wrong method", httptest.NewRequest(http.MethodGet, "/webhook", nil), 405, "POSTed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &memQueue{}
			reg := prometheus.NewRegistry()
			h := &WebhookHandler{Secret: []byte(secret), MaxBody: 1024, Queue: q,
				Handles: func(e string) bool { return e == "issue_comment" }, Metrics: NewWebhookMetrics(reg)}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.req)
			assert.Equal(t, tt.status, w.Code)
			assert.Contains(t, w.Body.String(), tt.body)
			assert.Equal(t, tt.stored, len(q.seen) == 1)
		})
	}
}

func TestWebhookHandlerBodyOverLimitWithoutContentLength(t *testing.T) {
	big := bytes.Repeat([]byte(" "), 4096)
	r := request(big, "issue_comment", "d", Sign([]byte(secret), big))
	r.ContentLength = -1
	h := &WebhookHandler{Secret: []byte(secret), MaxBody: 1024, Queue: &memQueue{}}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
}

func TestWebhookHandlerRedeliveryAndStoreDown(t *testing.T) {
	q := &memQueue{}
	woken := 0
	h := &WebhookHandler{Secret: []byte(secret), Queue: q, Notify: func() { woken++ }}
	body := []byte(`{}`)
	for i, want := range []int{202, 200} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request(body, "issue_comment", "same", Sign([]byte(secret), body)))
		assert.Equal(t, want, w.Code, "attempt %d", i)
	}
	assert.Equal(t, 1, woken)
	require.Len(t, q.seen, 1)
	assert.Equal(t, queue.Job{Queue: DeliveryQueue, Kind: "issue_comment", Key: "same", Payload: body,
		CreatedAt: q.seen["same"].CreatedAt}, q.seen["same"], "a delivery is a job of the webhook queue")
	assert.False(t, q.seen["same"].CreatedAt.IsZero())

	q.err = errors.New("disk full")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request(body, "issue_comment", "new", Sign([]byte(secret), body)))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.True(t, strings.Contains(w.Body.String(), "redeliver"))
}

func TestVerifySignature(t *testing.T) {
	body := []byte("payload")
	assert.NoError(t, VerifySignature([]byte("k"), body, Sign([]byte("k"), body)))
	assert.ErrorIs(t, VerifySignature([]byte("k"), body, ""), ErrNoSignature)
	assert.ErrorIs(t, VerifySignature([]byte("k"), body, Sign([]byte("k"), []byte("other"))), ErrBadSignature)
	assert.ErrorIs(t, VerifySignature([]byte("k"), body, "sha256=00"), ErrBadSignature)
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("body"), "sha256=00")
	f.Add([]byte(""), Sign([]byte("k"), nil))
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		err := VerifySignature([]byte("k"), body, header)
		if err == nil {
			require.Equal(t, Sign([]byte("k"), body), strings.ToLower(header))
		}
	})
}
