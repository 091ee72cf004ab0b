package githubapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/store"
)

// ClaimQueue is the side of the durable queue that workers use.
type ClaimQueue interface {
	ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]store.Delivery, error)
	CompleteDeliveries(ctx context.Context, worker string, outcomes []store.DeliveryOutcome) error
}

// Worker takes deliveries from the durable queue and dispatches them. A
// delivery is completed only after its handler returns, so a crash loses
// nothing: the lease runs out and another worker takes it again.
type Worker struct {
	Queue       ClaimQueue
	Dispatcher  *Dispatcher
	Concurrency int           // goroutines; default 4
	Batch       int           // deliveries claimed at once; default 32
	Lease       time.Duration // how long a claim lasts; default 5m
	Poll        time.Duration // how often to look without a wake-up; default 1s
	Timeout     time.Duration // per delivery; default 2m
	MaxAttempts int           // default 5
	// Linger is how long a woken worker waits for more deliveries before
	// claiming, so that a claim takes a batch rather than one; default 10ms.
	Linger  time.Duration
	Logger  *slog.Logger
	Metrics *WorkerMetrics
	Now     func() time.Time

	wakeOnce sync.Once
	wake     chan struct{}
}

// Notify wakes an idle worker; it never blocks.
func (w *Worker) Notify() {
	select {
	case w.wakeChan() <- struct{}{}:
	default:
	}
}

func (w *Worker) wakeChan() chan struct{} {
	w.wakeOnce.Do(func() { w.wake = make(chan struct{}, 1) })
	return w.wake
}

// Run works until ctx ends, then waits for deliveries in hand to finish.
func (w *Worker) Run(ctx context.Context) {
	host, _ := os.Hostname()
	var wg sync.WaitGroup
	for i := range max(w.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, fmt.Sprintf("%s/%d/%d", host, os.Getpid(), i))
		}()
	}
	wg.Wait()
}

func (w *Worker) loop(ctx context.Context, name string) {
	poll := w.Poll
	if poll <= 0 {
		poll = time.Second
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		n, err := w.RunOnce(ctx, name)
		if err != nil && ctx.Err() == nil {
			w.logger().Error("worker: queue", "err", err)
		}
		if n >= w.batch() && err == nil {
			continue // a full batch: there may be more at once
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wakeChan():
			w.linger(ctx)
		case <-ticker.C:
		}
	}
}

func (w *Worker) batch() int {
	if w.Batch <= 0 {
		return 32
	}
	return w.Batch
}

func (w *Worker) linger(ctx context.Context) {
	d := w.Linger
	if d == 0 {
		d = 10 * time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// RunOnce claims one batch, processes it and records the outcomes; it
// returns how many deliveries it handled.
func (w *Worker) RunOnce(ctx context.Context, name string) (int, error) {
	lease := w.Lease
	if lease <= 0 {
		lease = 5 * time.Minute
	}
	ds, err := w.Queue.ClaimDeliveries(ctx, name, w.batch(), lease)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	if w.Metrics != nil {
		w.Metrics.backlog.Add(float64(len(ds)))
		defer w.Metrics.backlog.Sub(float64(len(ds)))
	}
	outcomes := make([]store.DeliveryOutcome, 0, len(ds))
	for _, d := range ds {
		outcomes = append(outcomes, w.process(ctx, d))
	}
	// Record outcomes even when ctx has ended: the work is done.
	if err := w.Queue.CompleteDeliveries(context.WithoutCancel(ctx), name, outcomes); err != nil {
		return len(ds), err
	}
	return len(ds), nil
}

func (w *Worker) process(ctx context.Context, d store.Delivery) store.DeliveryOutcome {
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	start := time.Now()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	err := w.Dispatcher.Dispatch(hctx, Event{Type: d.Event, DeliveryID: d.ID, Payload: d.Payload})
	cancel()
	out := store.DeliveryOutcome{ID: d.ID, Err: err}
	result := "done"
	log := w.logger().With("delivery", d.ID, "event", d.Event, "attempt", d.Attempts)
	if err != nil {
		out.RetryAt = w.retryAt(d.Attempts, err)
		result = "retry"
		if out.RetryAt.IsZero() {
			result = "failed"
		}
		log.Error("delivery "+result, "err", err, "retry_at", out.RetryAt)
	}
	if w.Metrics != nil {
		w.Metrics.processed.WithLabelValues(d.Event, result).Inc()
		w.Metrics.duration.Observe(time.Since(start).Seconds())
	}
	return out
}

// retryAt says when to try a failed delivery again; zero means never.
func (w *Worker) retryAt(attempts int, err error) time.Time {
	maxAttempts := w.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 5
	}
	if IsPermanent(err) || attempts >= maxAttempts {
		return time.Time{}
	}
	now := w.now()
	at := now.Add(time.Duration(1<<min(attempts-1, 6)) * 10 * time.Second)
	if later := rateLimitReset(err); later.After(at) {
		at = later
	}
	return at
}

// rateLimitReset finds when GitHub said its rate limit resets, if it did.
func rateLimitReset(err error) time.Time {
	var ra *RetryAfterError
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &ra):
		return ra.At
	case errors.As(err, &rl):
		return rl.Rate.Reset.Time
	case errors.As(err, &abuse) && abuse.RetryAfter != nil:
		return time.Now().Add(*abuse.RetryAfter)
	}
	return time.Time{}
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}
