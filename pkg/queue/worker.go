package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Backend is the part of a Store that a Worker uses.
type Backend interface {
	Add(ctx context.Context, j Job) (bool, error)
	AddLeased(ctx context.Context, j Job, l Lease) (id int64, inserted bool, err error)
	Claim(ctx context.Context, queue string, now time.Time, limit int, l Lease) ([]Job, error)
	Extend(ctx context.Context, ids []int64, l Lease) (lost []int64, err error)
	Complete(ctx context.Context, worker string, outcomes []Outcome) error
}

var _ Backend = (*Store)(nil)

// Observer hears what a Worker does, for its metrics.
type Observer interface {
	// Holding moves the count of jobs leased to the worker and not yet
	// completed by delta.
	Holding(delta int)
	// Ran reports a job run and what became of it: done, retry, failed,
	// or lost (its lease passed to another worker, which runs it).
	Ran(j Job, result string, took time.Duration)
	// TookOver reports a job claimed from a worker whose lease ran out.
	TookOver(j Job)
}

// Worker defaults.
const (
	DefaultLease   = 10 * time.Second
	DefaultTimeout = 2 * time.Minute
)

// Worker runs the jobs of one queue. It claims them in batches, or takes
// them handed over in memory as they are added; runs each with Handle
// under a short lease that a heartbeat renews while the worker lives; and
// records the outcome, retrying a failure with the backoff policy. A job
// is completed only after Handle returns, so a crash loses nothing: its
// lease runs out within seconds and another worker takes the job over. A
// job whose lease is lost all the same (the heartbeat could not renew it
// in time, and another worker claimed it) has its context cancelled with
// ErrLeaseLost as the cause: the worker stops acting on it.
//
// While Run runs, Add hands a new job over in memory: it is stored leased
// to this worker, which spares a claim (a write transaction and a payload
// read). When the hand-over buffer is full, jobs are stored for claiming
// as usual.
type Worker struct {
	Store  Backend
	Queue  string
	Handle func(ctx context.Context, j Job) error
	// Classify says whether a failure is permanent and when, at the
	// earliest, to retry it; nil retries every failure.
	Classify    func(err error) (permanent bool, notBefore time.Time)
	Backoff     Backoff
	Concurrency int           // goroutines; default 4
	Batch       int           // jobs claimed at once; default 32
	Lease       time.Duration // how long a claim lasts unrenewed; default 10 s, renewed every third of it
	Poll        time.Duration // how often to look without a wake-up; default 1 s
	Timeout     time.Duration // per job; default 2 min
	// Linger is how long a woken worker waits for more jobs before
	// claiming, so that a claim takes a batch rather than one; default 10 ms.
	Linger time.Duration
	// Name is the lease owner; host/pid/random when empty.
	Name     string
	Logger   *slog.Logger
	Observer Observer
	Now      func() time.Time

	wakeOnce sync.Once
	wake     chan struct{}
	nameOnce sync.Once

	running atomic.Bool
	hand    chan Job      // jobs handed over; capacity = slots
	slots   chan struct{} // a free slot in hand, taken before storing
	leases  leases
}

// Add stores j in the worker's queue and, while the worker runs and has
// room, hands it over in memory; otherwise it wakes a worker to claim it.
// inserted is false for a job Add stored before (see Store.Add).
func (w *Worker) Add(ctx context.Context, j Job) (inserted bool, err error) {
	j.Queue = w.Queue
	if !w.running.Load() || !w.reserve() {
		inserted, err := w.Store.Add(ctx, j)
		if inserted {
			w.Notify()
		}
		return inserted, err
	}
	until := w.now().Add(w.lease())
	id, inserted, err := w.Store.AddLeased(ctx, j, Lease{Worker: w.name(), Until: until})
	if err != nil || !inserted {
		<-w.slots
		return inserted, err
	}
	j.ID, j.State, j.Attempts, j.DueAt = id, Running, 1, until
	w.hold([]Job{j})
	w.hand <- j // never blocks: a slot was reserved
	return true, nil
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

// Run works until ctx ends, then finishes the jobs in hand. Call it once.
func (w *Worker) Run(ctx context.Context) {
	w.hand = make(chan Job, 4*w.batch())
	w.slots = make(chan struct{}, 4*w.batch())
	stop := w.heartbeat()
	defer stop()
	w.running.Store(true)
	defer w.running.Store(false)
	var wg sync.WaitGroup
	for range max(w.Concurrency, 1) {
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Wait()
}

func (w *Worker) loop(ctx context.Context) {
	ticker := time.NewTicker(orDefault(w.Poll, time.Second))
	defer ticker.Stop()
	claim := true // jobs may be waiting from before the start
	for {
		if claim {
			n, err, _ := w.runOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.logger().Error("queue: claim", "queue", w.Queue, "err", err)
			}
			if n >= w.batch() && err == nil {
				continue // a full batch: there may be more at once
			}
		}
		claim = true
		select {
		case <-ctx.Done():
			w.takeHanded(ctx, nil) // adding has stopped: finish what was handed over
			return
		case j := <-w.hand:
			w.takeHanded(ctx, []Job{j})
			// No claim after a hand-over: a job stored for claiming sends
			// a wake-up, and the ticker finds the retries that come due.
			claim = false
		case <-w.wakeChan():
			w.linger(ctx)
		case <-ticker.C:
		}
	}
}

// takeHanded runs the jobs handed over in memory, first and whatever else
// is waiting, in batches.
func (w *Worker) takeHanded(ctx context.Context, first []Job) {
	batch := first
	for {
		for len(batch) < w.batch() {
			select {
			case j := <-w.hand:
				batch = append(batch, j)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			return
		}
		w.run(ctx, batch)
		for range batch {
			<-w.slots
		}
		batch = nil
	}
}

func (w *Worker) linger(ctx context.Context) {
	t := time.NewTimer(orDefault(w.Linger, 10*time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// RunOnce claims one batch, runs it and records the outcomes; it returns
// how many jobs it ran, and why the claim or any of them failed (the
// failures are retried as usual). Outside Run, it renews the batch's
// leases itself.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if !w.running.Load() {
		stop := w.heartbeat()
		defer stop()
	}
	n, claimErr, jobErr := w.runOnce(ctx)
	return n, errors.Join(claimErr, jobErr)
}

func (w *Worker) runOnce(ctx context.Context) (n int, claimErr, jobErr error) {
	now := w.now()
	jobs, err := w.Store.Claim(ctx, w.Queue, now, w.batch(), Lease{Worker: w.name(), Until: now.Add(w.lease())})
	if err != nil || len(jobs) == 0 {
		return 0, err, nil
	}
	w.hold(jobs)
	return len(jobs), nil, w.run(ctx, jobs)
}

// hold starts renewing the leases on jobs.
func (w *Worker) hold(jobs []Job) {
	for _, j := range jobs {
		w.leases.hold(j.ID, j.DueAt)
	}
	if w.Observer != nil {
		w.Observer.Holding(len(jobs))
		for _, j := range jobs {
			if j.TakenOver() {
				w.Observer.TookOver(j)
			}
		}
	}
}

// run runs jobs, which the worker holds, one after the other, records
// their outcomes together, and returns why those that failed failed.
func (w *Worker) run(ctx context.Context, jobs []Job) error {
	outcomes := make([]Outcome, 0, len(jobs))
	ids := make([]int64, 0, len(jobs))
	var failed []error
	for _, j := range jobs {
		ids = append(ids, j.ID)
		o, ok := w.process(ctx, j)
		if !ok {
			continue
		}
		outcomes = append(outcomes, o)
		if o.Err != nil {
			failed = append(failed, fmt.Errorf("job %s/%s/%s: %w", w.Queue, j.Kind, j.Key, o.Err))
		}
	}
	// Record outcomes even when ctx has ended: the work is done.
	err := w.Store.Complete(context.WithoutCancel(ctx), w.name(), outcomes)
	switch {
	case errors.Is(err, ErrLeaseLost):
		w.logger().Warn("queue: outcomes dropped; other workers hold those jobs", "queue", w.Queue, "err", err)
	case err != nil:
		w.logger().Error("queue: record outcomes; the jobs run again when their leases end", "queue", w.Queue, "err", err)
	}
	w.leases.forget(ids)
	if w.Observer != nil {
		w.Observer.Holding(-len(jobs))
	}
	return errors.Join(failed...)
}

// process runs one job; ok is false when its lease was lost, so that
// there is no outcome of this worker's to record.
func (w *Worker) process(ctx context.Context, j Job) (o Outcome, ok bool) {
	start := time.Now()
	jctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	var err error
	if w.leases.start(j.ID, cancel) {
		tctx, stop := context.WithTimeout(jctx, orDefault(w.Timeout, DefaultTimeout))
		err = w.Handle(tctx, j)
		stop()
	}
	log := w.logger().With("queue", w.Queue, "kind", j.Kind, "key", j.Key, "attempt", j.Attempts)
	if errors.Is(context.Cause(jctx), ErrLeaseLost) {
		log.Warn("job lease lost; another worker runs it", "err", err)
		w.ran(j, "lost", start)
		return Outcome{}, false
	}
	o = Outcome{ID: j.ID, Err: err}
	result := "done"
	if err != nil {
		var permanent bool
		var notBefore time.Time
		if w.Classify != nil {
			permanent, notBefore = w.Classify(err)
		}
		o.RetryAt = w.Backoff.RetryAt(w.now(), j.Attempts, permanent, notBefore)
		result = "retry"
		if o.RetryAt.IsZero() {
			result = "failed"
		}
		log.Error("job "+result, "err", err, "retry_at", o.RetryAt)
	}
	w.ran(j, result, start)
	return o, true
}

func (w *Worker) ran(j Job, result string, start time.Time) {
	if w.Observer != nil {
		w.Observer.Ran(j, result, time.Since(start))
	}
}

// heartbeat renews the leases the worker holds every third of a lease,
// until stop is called.
func (w *Worker) heartbeat() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(w.lease() / 3)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				w.renew()
			}
		}
	}()
	return func() { close(quit); <-done }
}

// renew extends the leases the worker holds; those it lost, or could not
// renew before they ran out, it gives up.
func (w *Worker) renew() {
	ids := w.leases.ids()
	if len(ids) == 0 {
		return
	}
	now := w.now()
	until := now.Add(w.lease())
	ctx, cancel := context.WithTimeout(context.Background(), w.lease()/3)
	defer cancel()
	lost, err := w.Store.Extend(ctx, ids, Lease{Worker: w.name(), Until: until})
	if err != nil {
		w.logger().Error("queue: renew leases", "queue", w.Queue, "err", err)
		w.leases.expire(now)
		return
	}
	w.leases.renewed(ids, until, lost)
}

func (w *Worker) name() string {
	w.nameOnce.Do(func() {
		if w.Name == "" {
			host, _ := os.Hostname()
			b := make([]byte, 4)
			rand.Read(b)
			w.Name = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
		}
	})
	return w.Name
}

func (w *Worker) batch() int {
	if w.Batch <= 0 {
		return 32
	}
	return w.Batch
}

func (w *Worker) lease() time.Duration { return orDefault(w.Lease, DefaultLease) }

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

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// leases are the jobs a worker holds, from the claim (or the hand-over)
// to the record of their outcome.
type leases struct {
	mu   sync.Mutex
	jobs map[int64]*held
}

type held struct {
	until  time.Time               // when the lease runs out unless renewed
	lost   bool                    // another worker may hold it now
	cancel context.CancelCauseFunc // while the job runs
}

func (l *leases) hold(id int64, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.jobs == nil {
		l.jobs = map[int64]*held{}
	}
	l.jobs[id] = &held{until: until}
}

// start marks the job running, cancelled with cancel should its lease be
// lost; false when it is lost already.
func (l *leases) start(id int64, cancel context.CancelCauseFunc) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.jobs[id]
	if !ok || h.lost {
		cancel(ErrLeaseLost)
		return false
	}
	h.cancel = cancel
	return true
}

func (l *leases) forget(ids []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		delete(l.jobs, id)
	}
}

func (l *leases) ids() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]int64, 0, len(l.jobs))
	for id, h := range l.jobs {
		if !h.lost {
			ids = append(ids, id)
		}
	}
	return ids
}

// renewed records a renewal of ids to until, but for the lost ones.
func (l *leases) renewed(ids []int64, until time.Time, lost []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if h, ok := l.jobs[id]; ok {
			h.until = until
		}
	}
	for _, id := range lost {
		if h, ok := l.jobs[id]; ok {
			h.lose()
		}
	}
}

// expire gives up the leases that ran out by now without a renewal.
func (l *leases) expire(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range l.jobs {
		if !h.until.After(now) {
			h.lose()
		}
	}
}

func (h *held) lose() {
	h.lost = true
	if h.cancel != nil {
		h.cancel(ErrLeaseLost)
	}
}
