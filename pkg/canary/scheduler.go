package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

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

// Run carries out due work until ctx ends: effects, analyses, and a sweep
// for effects that were stored but never scheduled (a crash between the
// two). Several replicas may run it on one store. When ctx ends, the jobs
// in hand finish first: a write to GitHub cut off halfway may still land,
// and the next attempt would not know whether it did.
func (e *Engine) Run(ctx context.Context) {
	wake := e.wakeChan()
	work := context.WithoutCancel(ctx)
	e.sweep(work)
	poll := time.NewTicker(e.poll())
	defer poll.Stop()
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	for ctx.Err() == nil {
		if _, err := e.RunDue(work); err != nil {
			e.logger().Error("run due jobs", "err", err)
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

func (e *Engine) wakeChan() chan struct{} {
	e.once.Do(func() { e.wake = make(chan struct{}, 1) })
	return e.wake
}

func (e *Engine) poll() time.Duration {
	if e.Poll > 0 {
		return e.Poll
	}
	return DefaultPoll
}

func (e *Engine) lease() time.Duration {
	if e.Lease > 0 {
		return e.Lease
	}
	return DefaultLease
}

func (e *Engine) worker() string {
	if e.Worker != "" {
		return e.Worker
	}
	return "modelgate"
}

// RunDue claims the jobs due now and runs them; it returns how many ran.
func (e *Engine) RunDue(ctx context.Context) (int, error) {
	jobs, err := e.Store.ClaimDueJobs(ctx, e.worker(), e.now(), claimBatch, e.lease())
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
func (e *Engine) runJob(ctx context.Context, j store.Job) error {
	id, err := strconv.ParseInt(j.Key, 10, 64)
	var p jobPayload
	if err == nil && len(j.Payload) > 0 {
		err = json.Unmarshal(j.Payload, &p)
	}
	if err == nil {
		switch j.Kind {
		case jobEffects:
			err = e.runEffects(ctx, id)
		case jobAnalysis:
			err = e.runAnalysis(ctx, id, p.Look)
		default:
			err = fmt.Errorf("unknown job kind %q", j.Kind)
		}
	}
	if err != nil && ctx.Err() == nil {
		e.logger().Warn("job failed; retrying later", "kind", j.Kind, "key", j.Key, "retry", p.Retry, "err", err)
		e.retry(ctx, j, p)
	}
	if cerr := e.Store.CompleteJob(context.WithoutCancel(ctx), e.worker(), j.ID, err); cerr != nil && !errors.Is(cerr, store.ErrLeaseLost) {
		return errors.Join(err, fmt.Errorf("complete job %d: %w", j.ID, cerr))
	}
	return err
}

// retry schedules a failed job again after an exponential backoff.
func (e *Engine) retry(ctx context.Context, j store.Job, p jobPayload) {
	p.Retry++
	wait := min(time.Second<<min(p.Retry, 20), maxBackoff)
	payload, _ := json.Marshal(p)
	if _, err := e.Store.ScheduleJob(context.WithoutCancel(ctx), store.Job{Kind: j.Kind, Key: j.Key, DueAt: e.now().Add(wait), Payload: payload}); err != nil {
		e.logger().Error("reschedule failed job", "kind", j.Kind, "key", j.Key, "err", err)
	}
}

// sweep schedules the effects of recent rollouts whose outbox is not
// empty. Scheduling an outbox that a job is already carrying out is
// harmless: the store runs one job per rollout at a time.
func (e *Engine) sweep(ctx context.Context) {
	rows, err := e.Store.ListRollouts(ctx, store.RolloutFilter{Limit: sweepDepth})
	if err != nil {
		e.logger().Error("sweep", "err", err)
		return
	}
	for _, ro := range rows {
		l, err := decode(ro)
		if err != nil || len(l.rec.Outbox) == 0 {
			continue
		}
		e.scheduleEffects(ctx, ro.ID)
	}
}
