// Package schedule runs the rollout engine's jobs from the queue
// (pkg/queue), on every replica: carrying out outboxes and judging looks,
// under leases renewed while a job runs, with the queue's backoff for
// failed jobs and a sweep for outboxes no job carries out.
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
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
)

// Scheduler defaults.
const (
	DefaultPoll = time.Second
	// concurrency is how many jobs run at once.
	concurrency = 8
	// jobTimeout bounds one run of a job.
	jobTimeout = time.Minute
	// sweepEvery is how often the scheduler looks for outboxes without a job.
	sweepEvery = time.Minute
	// sweepDepth is how many of the newest rollouts a sweep looks at.
	sweepDepth = 200
)

// retries is how the engine's failed jobs are tried again: after 2 s,
// doubling, at most every 5 min, and never given up, so that nothing a
// job was to do is lost; only a job that cannot be read fails for good.
func retries() queue.Backoff {
	return queue.Backoff{Base: 2 * time.Second, Max: 5 * time.Minute, MaxAttempts: -1}
}

// errMalformed marks a job that no retry can run.
var errMalformed = errors.New("malformed job")

func classify(err error) (permanent bool, notBefore time.Time) {
	return errors.Is(err, errMalformed), time.Time{}
}

// Rollouts are what the sweep looks at.
type Rollouts interface {
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

// Scheduler runs due jobs. Its zero value is not usable: set Jobs,
// Rollouts, Outboxes, Analyses and Effects.
type Scheduler struct {
	// Jobs is the queue the jobs wait in (canary.JobQueue of a *queue.Store).
	Jobs     queue.Backend
	Rollouts Rollouts
	Outboxes Outboxes
	Analyses Analyses
	// Effects schedules a rollout's outbox (canary.Transitions).
	Effects interface {
		ScheduleEffects(ctx context.Context, id int64)
	}
	// Poll is how often the scheduler looks for due work (1 s by default).
	Poll time.Duration
	// Lease is how long a job stays leased unrenewed (queue.DefaultLease
	// by default).
	Lease time.Duration
	// Worker names this process among the replicas; a name of its own
	// when empty.
	Worker string
	Logger *slog.Logger
	Clock  canary.Clock
	// Observer hears what the queue worker does, for the metrics.
	Observer queue.Observer

	once   sync.Once
	worker *queue.Worker
}

// jobs is the queue worker that runs the jobs, built at first use.
func (e *Scheduler) jobs() *queue.Worker {
	e.once.Do(func() {
		poll := e.Poll
		if poll <= 0 {
			poll = DefaultPoll
		}
		e.worker = &queue.Worker{Store: e.Jobs, Queue: canary.JobQueue, Handle: e.runJob, Backoff: retries(), Classify: classify,
			Concurrency: concurrency, Batch: 1, Lease: e.Lease, Poll: poll, Timeout: jobTimeout, Name: e.Worker,
			Logger: canary.Log(e.Logger), Now: e.Clock.Now, Observer: e.Observer}
	})
	return e.worker
}

// Wake tells the scheduler that work may be due now.
func (e *Scheduler) Wake() { e.jobs().Notify() }

// Run carries out due work until ctx ends: effects, analyses, and a sweep
// for effects that were stored but never scheduled (a crash between the
// two). Several replicas may run it on one store. When ctx ends, the jobs
// in hand finish first: a write to GitHub cut off halfway may still land,
// and the next attempt would not know whether it did.
func (e *Scheduler) Run(ctx context.Context) {
	e.sweep(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(sweepEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.sweep(ctx)
			}
		}
	}()
	e.jobs().Run(ctx)
	<-done
}

// RunDue claims a job due now and runs it; it returns how many ran, and
// why a job failed (it is retried later).
func (e *Scheduler) RunDue(ctx context.Context) (int, error) {
	return e.jobs().RunOnce(ctx)
}

// runJob runs one job; the queue tries it again later when it fails.
func (e *Scheduler) runJob(ctx context.Context, j queue.Job) error {
	id, err := strconv.ParseInt(j.Key, 10, 64)
	var p canary.JobPayload
	if err == nil && len(j.Payload) > 0 {
		err = json.Unmarshal(j.Payload, &p)
	}
	if err != nil {
		return fmt.Errorf("%w: %s of rollout %q: %w", errMalformed, j.Kind, j.Key, err)
	}
	switch j.Kind {
	case canary.JobEffects:
		return e.Outboxes.Run(ctx, id)
	case canary.JobAnalysis:
		return e.Analyses.Run(ctx, id, p.Look)
	}
	return fmt.Errorf("%w: unknown kind %q", errMalformed, j.Kind)
}

// sweep schedules the effects of recent rollouts whose outbox is not
// empty. Scheduling an outbox that a job is already carrying out is
// harmless: the queue runs one job per kind and rollout at a time.
func (e *Scheduler) sweep(ctx context.Context) {
	rows, err := e.Rollouts.ListRollouts(ctx, store.RolloutFilter{Limit: sweepDepth})
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
