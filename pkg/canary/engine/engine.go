// Package engine assembles the canary rollout engine from its parts: the
// transitions of pkg/canary, the commands, the effects executor, the
// events and the scheduler, on one store.
package engine

import (
	"log/slog"
	"time"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/canary/command"
	"github.com/modelgate/modelgate/pkg/canary/effect"
	"github.com/modelgate/modelgate/pkg/canary/event"
	"github.com/modelgate/modelgate/pkg/canary/schedule"
	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
)

// Store is all the durable state the parts use.
type Store interface {
	canary.Store
	command.Store
	effect.Store
	event.Store
	schedule.Rollouts
}

// Jobs is the queue the engine's jobs wait in (a *queue.Store).
type Jobs interface {
	queue.Backend
	canary.Jobs
}

// Config is what the engine is built from.
type Config struct {
	Store     Store
	Jobs      Jobs
	Clients   effect.Clients
	Providers canary.Providers
	Judge     *judge.Judge
	// BotLogin is the App's login (event.Events.BotLogin).
	BotLogin string
	// WebURL is GitHub's web address for links (https://github.com).
	WebURL string
	// ChecksPattern names the check runs /canary needs passed
	// (command.Commands.ChecksPattern).
	ChecksPattern string
	// Poll, Lease and Worker tune the scheduler (schedule.Scheduler).
	Poll   time.Duration
	Lease  time.Duration
	Worker string
	Logger *slog.Logger
	// Now is the clock; tests move it.
	Now func() time.Time
	// Observer hears the engine's decisions and JobObserver its queue's
	// work, for the metrics; nil for none.
	Observer    canary.Observer
	JobObserver queue.Observer
}

// Engine is the wired engine: Commands for chatops, Events for the
// webhooks, Scheduler to run.
type Engine struct {
	Transitions *canary.Transitions
	Commands    *command.Commands
	Events      *event.Events
	Executor    *effect.Executor
	Scheduler   *schedule.Scheduler
}

// New wires the parts.
func New(c Config) *Engine {
	t := &canary.Transitions{Store: c.Store, Jobs: c.Jobs, Logger: c.Logger, Clock: c.Now, Observer: c.Observer}
	analysis := &canary.Analysis{Transitions: t, Logger: c.Logger,
		Analyzer: &canary.MetricsAnalyzer{Providers: c.Providers, Judge: c.Judge, Clock: c.Now}}
	executor := &effect.Executor{Store: c.Store, Records: t, Clients: c.Clients, WebURL: c.WebURL, Logger: c.Logger, Clock: c.Now,
		Observer: c.Observer}
	sched := &schedule.Scheduler{Jobs: c.Jobs, Rollouts: c.Store, Outboxes: executor, Analyses: analysis, Effects: t,
		Poll: c.Poll, Lease: c.Lease, Worker: c.Worker, Logger: c.Logger, Clock: c.Now, Observer: c.JobObserver}
	t.Wake = sched.Wake
	return &Engine{
		Transitions: t,
		Commands:    &command.Commands{Store: c.Store, Records: t, Providers: c.Providers, ChecksPattern: c.ChecksPattern, Clock: c.Now},
		Events:      &event.Events{Store: c.Store, Records: t, BotLogin: c.BotLogin, Logger: c.Logger, Clock: c.Now},
		Executor:    executor,
		Scheduler:   sched,
	}
}

var (
	_ Store = store.Store(nil)
	_ Jobs  = (*queue.Store)(nil)
)
