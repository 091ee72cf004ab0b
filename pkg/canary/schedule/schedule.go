// Package schedule runs the rollout engine's due jobs from the store's
// agenda, on every replica: carrying out outboxes and judging looks, with
// a backoff for failed jobs and a sweep for outboxes no job carries out.
package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/store"
)

// Scheduler defaults.
const (
	DefaultPoll  = time.Second
	DefaultLease = 2 * time.Minute
	// claimBatch is how many due jobs one poll takes; they run concurrently.
	claimBatch = 8
	// sweepEvery is how often the scheduler looks for outboxes without a job.
	sweepEvery = time.Minute
	// sweepDepth is how many of the newest rollouts a sweep looks at.
	sweepDepth = 200
	maxBackoff = 5 * time.Minute
)

// Store is the agenda, and the rollouts the sweep looks at.
type Store interface {
	ScheduleJob(ctx context.Context, j store.Job) (int64, error)
	ClaimDueJobs(ctx context.Context, worker string, now time.Time, limit int, lease time.Duration) ([]store.Job, error)
	CompleteJob(ctx context.Context, worker string, id int64, err error) error
	ListRollouts(ctx context.Context, f store.RolloutFilter) ([]store.Rollout, error)
}

// Outboxes carries out a rollout's outbox (effect.Executor).
type Outboxes interface {
	Run(ctx context.Context, id int64) error
}

// Analyses judges a look of a rollout (canary.Analysis).
type Analyses interface {
	Run(ctx context.Context, id int64, look int) error
}

// Scheduler runs due jobs. Its zero value is not usable: set Store,
// Outboxes, Analyses and Effects.
type Scheduler struct {
	Store    Store
	Outboxes Outboxes
	Analyses Analyses
	// Effects schedules a rollout's outbox (canary.Transitions).
	Effects interface {
		ScheduleEffects(ctx context.Context, id int64)
	}
	// Poll is how often the scheduler looks for due work (1 s by default).
	Poll time.Duration
	// Lease is how long a worker holds a job (2 min by default).
	Lease time.Duration
	// Worker names this process among the replicas.
	Worker string
	Logger *slog.Logger
	Clock  canary.Clock

	once sync.Once
	wake chan struct{}
}

// Wake tells the scheduler that work may be due now.
func (e *Scheduler) Wake() {
	select {
	case e.wakeChan() <- struct{}{}:
	default:
	}
}

// Run carries out due work until ctx ends: effects, analyses, and a sweep
// for effects that were stored but never scheduled (a crash between the
// two). Several replicas may run it on one store. When ctx ends, the jobs
// in hand finish first: a write to GitHub cut off halfway may still land,
// and the next attempt would not know whether it did.
func (e *Scheduler) Run(ctx context.Context) {
	wake := e.wakeChan()
	work := context.WithoutCancel(ctx)
	e.sweep(work)
	poll := time.NewTicker(e.poll())
	defer poll.Stop()
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	for ctx.Err() == nil {
		if _, err := e.RunDue(work); err != nil {
			canary.Log(e.Logger).Error("run due jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-wake:
		case <-sweep.C:
			e.sweep(work)
		}
	}
}

func (e *Scheduler) wakeChan() chan struct{} {
	e.once.Do(func() { e.wake = make(chan struct{}, 1) })
	return e.wake
}

func (e *Scheduler) poll() time.Duration {
	if e.Poll > 0 {
		return e.Poll
	}
	return DefaultPoll
}

func (e *Scheduler) lease() time.Duration {
	if e.Lease > 0 {
		return e.Lease
	}
	return DefaultLease
}

func (e *Scheduler) worker() string {
	if e.Worker != "" {
		return e.Worker
	}
	return "modelgate"
}

// RunDue claims the jobs due now and runs them; it returns how many ran.
func (e *Scheduler) RunDue(ctx context.Context) (int, error) {
	jobs, err := e.Store.ClaimDueJobs(ctx, e.worker(), e.Clock.Now(), claimBatch, e.lease())
	if err != nil {
		return 0, fmt.Errorf("claim jobs: %w", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Go(func() {
			jctx, cancel := context.WithTimeout(ctx, e.lease()/2)
			defer cancel()
			errs[i] = e.runJob(jctx, j)
		})
	}
	wg.Wait()
	return len(jobs), errors.Join(errs...)
}

// runJob runs one job and records its outcome; a failed job is tried
// again later with backoff, so nothing it was to do is lost.
func (e *Scheduler) runJob(ctx context.Context, j store.Job) error {
	id, err := strconv.ParseInt(j.Key, 10, 64)
	var p canary.JobPayload
	if err == nil && len(j.Payload) > 0 {
		err = json.Unmarshal(j.Payload, &p)
	}
	if err == nil {
		switch j.Kind {
		case canary.JobEffects:
			err = e.Outboxes.Run(ctx, id)
		case canary.JobAnalysis:
			err = e.Analyses.Run(ctx, id, p.Look)
		default:
			err = fmt.Errorf("unknown job kind %q", j.Kind)
		}
	}
	if err != nil && ctx.Err() == nil {
		canary.Log(e.Logger).Warn("job failed; retrying later", "kind", j.Kind, "key", j.Key, "retry", p.Retry, "err", err)
		e.retry(ctx, j, p)
	}
	if cerr := e.Store.CompleteJob(context.WithoutCancel(ctx), e.worker(), j.ID, err); cerr != nil && !errors.Is(cerr, store.ErrLeaseLost) {
		return errors.Join(err, fmt.Errorf("complete job %d: %w", j.ID, cerr))
	}
	return err
}

// retry schedules a failed job again after an exponential backoff.
func (e *Scheduler) retry(ctx context.Context, j store.Job, p canary.JobPayload) {
	p.Retry++
	wait := min(time.Second<<min(p.Retry, 20), maxBackoff)
	payload, _ := json.Marshal(p)
	if _, err := e.Store.ScheduleJob(context.WithoutCancel(ctx), store.Job{Kind: j.Kind, Key: j.Key, DueAt: e.Clock.Now().Add(wait), Payload: payload}); err != nil {
		canary.Log(e.Logger).Error("reschedule failed job", "kind", j.Kind, "key", j.Key, "err", err)
	}
}

// sweep schedules the effects of recent rollouts whose outbox is not
// empty. Scheduling an outbox that a job is already carrying out is
// harmless: the store runs one job per rollout at a time.
func (e *Scheduler) sweep(ctx context.Context) {
	rows, err := e.Store.ListRollouts(ctx, store.RolloutFilter{Limit: sweepDepth})
	if err != nil {
		canary.Log(e.Logger).Error("sweep", "err", err)
		return
	}
	for _, ro := range rows {
		l, err := canary.Decode(ro)
		if err != nil || len(l.Record.Outbox) == 0 {
			continue
		}
		e.Effects.ScheduleEffects(ctx, ro.ID)
	}
}
