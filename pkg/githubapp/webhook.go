package githubapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/modelgate/modelgate/internal/failpoint"
	"github.com/modelgate/modelgate/pkg/queue"
)

// DefaultMaxBody is GitHub's own cap on a webhook payload (25 MB).
const DefaultMaxBody = 25 << 20

// Queue stores deliveries durably (DeliveryJob); inserted is false for a
// known delivery id. A *queue.Worker (NewWorker) is one, and so is a
// *queue.Store.
type Queue interface {
	Add(ctx context.Context, j queue.Job) (inserted bool, err error)
}

// WebhookHandler is the ack path of POST /webhook: it checks the signature,
// stores the delivery once, and answers before any work is done.
type WebhookHandler struct {
	Secret  []byte
	MaxBody int64
	Queue   Queue
	// Handles tells which event types are worth storing; others are acknowledged and dropped.
	Handles func(event string) bool
	// Notify, if set, wakes the workers after a new delivery is stored.
	Notify  func()
	Logger  *slog.Logger
	Metrics *WebhookMetrics
	Now     func() time.Time
}

// ServeHTTP answers a delivery: 401 bad signature, 413 too large, 400
// malformed, 200 ping or duplicate, 202 stored or ignored, 503 store down.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, msg := h.serve(r)
	if status >= 400 {
		http.Error(w, msg, status)
	} else {
		failpoint.Hit(failpoint.IntakeStored, r.Header.Get("X-GitHub-Delivery"))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, msg+"\n")
		if f, ok := w.(http.Flusher); ok && failpoint.Enabled {
			f.Flush()
			failpoint.Hit(failpoint.IntakeAnswered, r.Header.Get("X-GitHub-Delivery"))
		}
	}
	h.Metrics.observe(status, msg, time.Since(start))
}

func (h *WebhookHandler) serve(r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "webhooks are POSTed"
	}
	sig := r.Header.Get("X-Hub-Signature-256")
	if sig == "" {
		h.log(r).Warn("webhook refused", "reason", ErrNoSignature.Error())
		return http.StatusUnauthorized, ErrNoSignature.Error()
	}
	body, status, err := h.readBody(r)
	if err != nil {
		h.log(r).Warn("webhook refused", "reason", err.Error())
		return status, err.Error()
	}
	if err := VerifySignature(h.Secret, body, sig); err != nil {
		h.log(r).Warn("webhook refused", "reason", err.Error())
		return http.StatusUnauthorized, err.Error()
	}
	event, id := r.Header.Get("X-GitHub-Event"), r.Header.Get("X-GitHub-Delivery")
	if event == "" || id == "" || len(id) > 128 {
		return http.StatusBadRequest, "missing X-GitHub-Event or X-GitHub-Delivery"
	}
	if !looksLikeObject(body) {
		h.log(r).Warn("webhook refused", "reason", "malformed JSON")
		return http.StatusBadRequest, "malformed JSON payload"
	}
	if event == "ping" {
		return http.StatusOK, "pong"
	}
	if h.Handles != nil && !h.Handles(event) {
		h.log(r).Debug("webhook ignored", "reason", "event not handled")
		return http.StatusAccepted, "ignored: event " + event + " is not handled"
	}
	return h.enqueue(r, DeliveryJob(event, id, body, h.now()))
}

// looksLikeObject is the ack path's check of a signed payload: a JSON
// object at a glance, which a cut-off body is not. Parsing it is the
// handler's job, and a payload that fails there fails its delivery for
// good; validating the whole payload here cost four times the signature
// check, on every delivery, for JSON that GitHub signed.
func looksLikeObject(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

func (h *WebhookHandler) readBody(r *http.Request) ([]byte, int, error) {
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes is over the %d-byte limit", r.ContentLength, limit)
	}
	// Sized from Content-Length (already capped) so the body is read without regrowing.
	buf := bytes.NewBuffer(make([]byte, 0, max(r.ContentLength, 0)+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	body := buf.Bytes()
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body is over the %d-byte limit", limit)
	}
	return body, 0, nil
}

func (h *WebhookHandler) enqueue(r *http.Request, d queue.Job) (int, string) {
	inserted, err := h.Queue.Add(r.Context(), d)
	if err != nil {
		h.log(r).Error("webhook not stored", "err", err)
		if errors.Is(err, context.Canceled) {
			return http.StatusServiceUnavailable, "shutting down"
		}
		return http.StatusServiceUnavailable, "could not store the delivery; redeliver it"
	}
	if !inserted {
		h.log(r).Info("webhook duplicate", "reason", "delivery already stored")
		return http.StatusOK, "duplicate delivery " + d.Key + ": already queued"
	}
	if h.Notify != nil {
		h.Notify()
	}
	return http.StatusAccepted, "queued"
}

func (h *WebhookHandler) log(r *http.Request) *slog.Logger {
	l := h.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With("delivery", r.Header.Get("X-GitHub-Delivery"), "event", r.Header.Get("X-GitHub-Event"))
}

func (h *WebhookHandler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
