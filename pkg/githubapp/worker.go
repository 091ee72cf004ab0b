package githubapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/store"
)

// ClaimQueue is the side of the durable queue that workers use.
type ClaimQueue interface {
	ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]store.Delivery, error)
	CompleteDeliveries(ctx context.Context, worker string, outcomes []store.DeliveryOutcome) error
}

// DirectQueue stores deliveries either for any worker to claim, or already
// leased to the worker that holds them in memory.
type DirectQueue interface {
	EnqueueDelivery(ctx context.Context, d store.Delivery) (bool, error)
	EnqueueClaimedDelivery(ctx context.Context, d store.Delivery, worker string, lease time.Duration) (bool, error)
}

// Worker takes deliveries from the durable queue and dispatches them. A
// delivery is completed only after its handler returns, so a crash loses
// nothing: the lease runs out and another worker takes it again.
//
// While Run runs, the Worker is also the webhook handler's Queue: a new
// delivery is stored already leased to this process and handed to a
// worker in memory, which spares a claim (a write transaction and a
// payload read) per batch. When the hand-off buffer is full, or when
// Direct is nil, deliveries are stored for claiming as usual.
type Worker struct {
	Queue       ClaimQueue
	Direct      DirectQueue
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

	running atomic.Bool
	name    string              // lease owner of the deliveries handed over in memory
	hand    chan store.Delivery // deliveries handed over; capacity = slots
	slots   chan struct{}       // a free slot in hand, taken before storing
}

// EnqueueDelivery stores d and, while the worker runs and has room, hands
// it over in memory; otherwise it wakes a worker to claim it.
func (w *Worker) EnqueueDelivery(ctx context.Context, d store.Delivery) (bool, error) {
	if !w.running.Load() || w.Direct == nil || !w.reserve() {
		inserted, err := w.pending(ctx, d)
		if inserted {
			w.Notify()
		}
		return inserted, err
	}
	inserted, err := w.Direct.EnqueueClaimedDelivery(ctx, d, w.name, w.lease())
	if err != nil || !inserted {
		<-w.slots
		return inserted, err
	}
	w.hand <- d // never blocks: a slot was reserved
	return true, nil
}

func (w *Worker) pending(ctx context.Context, d store.Delivery) (bool, error) {
	if w.Direct == nil {
		return false, errors.New("worker has no queue to store deliveries in")
	}
	return w.Direct.EnqueueDelivery(ctx, d)
}

func (w *Worker) reserve() bool {
	select {
	case w.slots <- struct{}{}:
		return true
	default:
		return false
	}
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
// Call it once.
func (w *Worker) Run(ctx context.Context) {
	host, _ := os.Hostname()
	w.name = fmt.Sprintf("%s/%d/direct", host, os.Getpid())
	w.hand = make(chan store.Delivery, 4*w.batch())
	w.slots = make(chan struct{}, 4*w.batch())
	w.running.Store(true)
	defer w.running.Store(false)
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
	claim := true // deliveries may be waiting from before the start
	for {
		if claim {
			n, err := w.RunOnce(ctx, name)
			if err != nil && ctx.Err() == nil {
				w.logger().Error("worker: queue", "err", err)
			}
			if n >= w.batch() && err == nil {
				continue // a full batch: there may be more at once
			}
		}
		claim = true
		select {
		case <-ctx.Done():
			w.takeHanded(ctx, nil) // the webhook server has stopped: finish what was handed over
			return
		case d := <-w.hand:
			w.takeHanded(ctx, []store.Delivery{d})
			// No claim after a hand-over: a delivery stored for claiming
			// sends a wake-up, and the ticker finds the retries that come due.
			claim = false
		case <-w.wakeChan():
			w.linger(ctx)
		case <-ticker.C:
		}
	}
}

// takeHanded processes deliveries handed over in memory, with first and
// whatever else is waiting, in batches.
func (w *Worker) takeHanded(ctx context.Context, first []store.Delivery) {
	batch := first
	for {
		for len(batch) < w.batch() {
			select {
			case d := <-w.hand:
				batch = append(batch, d)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			return
		}
		if err := w.complete(ctx, w.name, batch); err != nil {
			w.logger().Error("worker: queue", "err", err)
		}
		for range batch {
			<-w.slots
		}
		batch = nil
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
	ds, err := w.Queue.ClaimDeliveries(ctx, name, w.batch(), w.lease())
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	return len(ds), w.complete(ctx, name, ds)
}

// complete processes ds, leased to name, and records the outcomes.
func (w *Worker) complete(ctx context.Context, name string, ds []store.Delivery) error {
	if w.Metrics != nil {
		w.Metrics.backlog.Add(float64(len(ds)))
		defer w.Metrics.backlog.Sub(float64(len(ds)))
	}
	outcomes := make([]store.DeliveryOutcome, 0, len(ds))
	for _, d := range ds {
		outcomes = append(outcomes, w.process(ctx, d))
	}
	// Record outcomes even when ctx has ended: the work is done.
	return w.Queue.CompleteDeliveries(context.WithoutCancel(ctx), name, outcomes)
}

func (w *Worker) lease() time.Duration {
	if w.Lease <= 0 {
		return 5 * time.Minute
	}
	return w.Lease
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
	// A delivery handed over in memory has not been counted yet (0).
	at := now.Add(time.Duration(1<<min(max(attempts-1, 0), 6)) * 10 * time.Second)
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
