package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// maxConflicts bounds the retries of a transition that lost a race with
// another writer of the same rollout.
const maxConflicts = 20

// Bot is the actor of the engine's own decisions in the audit log.
const Bot = "modelgate"

// JobQueue is the queue (pkg/queue) the engine's jobs wait in; a job's
// key is its rollout id, its kind one of these.
const (
	JobQueue    = "rollout"
	JobEffects  = "rollout.effects"
	JobAnalysis = "rollout.analysis"
)

// JobPayload is the payload of the engine's jobs: the look an analysis
// judges.
type JobPayload struct {
	Look int `json:"look"`
}

// Store is the durable state transitions read and write.
type Store interface {
	CreateRollout(ctx context.Context, r store.Rollout) (store.Rollout, error)
	GetRollout(ctx context.Context, id int64) (store.Rollout, error)
	UpdateRollout(ctx context.Context, r store.Rollout) (store.Rollout, error)
}

// Jobs is the engine's agenda: a job scheduled replaces the pending one of
// its kind and rollout (a *queue.Store).
type Jobs interface {
	Schedule(ctx context.Context, j queue.Job) (int64, error)
}

// Transitions moves stored rollouts through the state machine: each change
// is read, decided and written with the effects it asks for in one write,
// before anything touches GitHub; only then are the effects scheduled.
type Transitions struct {
	Store Store
	Jobs  Jobs
	// Wake tells the scheduler that effects are due now; nil is a no-op.
	Wake   func()
	Logger *slog.Logger
	Clock  Clock
	// Observer hears the rollouts that end; nil for none.
	Observer Observer
}

// Start stores a new rollout with its first effects, then schedules them.
// The store refuses it with store.ErrLocked or store.ErrConflict.
func (t *Transitions) Start(ctx context.Context, l Rollout) (store.Rollout, error) {
	if err := l.Encode(); err != nil {
		return store.Rollout{}, err
	}
	row, err := t.Store.CreateRollout(ctx, l.Row)
	if err != nil {
		return row, err
	}
	t.ScheduleEffects(ctx, row.ID)
	return row, nil
}

// Apply applies ev to rollout id: it reads the rollout, runs the state
// machine, stores the new state together with the effects it asks for,
// and only then schedules those effects. A refusal (wrapping
// rollout.ErrRefused) leaves the rollout as it was. mutate, when set, also
// changes the record in the same write.
func (t *Transitions) Apply(ctx context.Context, id int64, ev rollout.Event, actor string, mutate func(*Rollout)) (Rollout, error) {
	var before rollout.State
	saved, err := t.Update(ctx, id, func(l *Rollout) error {
		before = l.Record.State
		if p, ok := ev.(rollout.Promote); ok {
			p.Passing = l.judgePassing()
			ev = p
		}
		next, actions, err := rollout.Next(l.Plan, before, ev, t.Clock.Now())
		if err != nil {
			return err
		}
		l.Record.State = next
		if mutate != nil {
			mutate(l)
		}
		l.Enqueue(actions)
		if next.Phase == rollout.Promoted {
			l.summarize(t.Clock.Now())
		}
		l.auditChange(before, actor)
		return nil
	})
	if err != nil {
		return saved, err
	}
	if after := saved.Record.State; after.Terminal() && !before.Terminal() {
		Observe(t.Observer).Ended(string(after.Phase), EndReason(ev, actor))
	}
	t.ScheduleEffects(ctx, saved.Row.ID)
	return saved, nil
}

// Release rolls rollout ro back for reason; one that ended meanwhile is
// left as it is.
func (t *Transitions) Release(ctx context.Context, ro store.Rollout, reason, actor string) error {
	if actor == "" {
		actor = Bot
	}
	_, err := t.Apply(ctx, ro.ID, rollout.Rollback{Reason: reason}, actor, nil)
	if errors.Is(err, rollout.ErrRefused) {
		return nil
	}
	return err
}

// Notify queues a notice on a rollout without changing its state.
func (t *Transitions) Notify(ctx context.Context, id int64, text string) error {
	_, err := t.Update(ctx, id, func(l *Rollout) error {
		l.Push(Effect{Kind: EffectNote, Text: text, Stage: l.Record.State.Stage})
		return nil
	})
	if err != nil {
		return err
	}
	t.ScheduleEffects(ctx, id)
	return nil
}

// Update reads rollout id, changes it with change and saves it; when
// another writer saved it first, it reads it again and changes it anew.
// An error from change leaves the rollout as it was.
func (t *Transitions) Update(ctx context.Context, id int64, change func(*Rollout) error) (Rollout, error) {
	for attempt := 1; ; attempt++ {
		l, err := t.Load(ctx, id)
		if err != nil {
			return l, err
		}
		if err := change(&l); err != nil {
			return l, err
		}
		saved, err := t.Save(ctx, l)
		if errors.Is(err, store.ErrConflict) && attempt < maxConflicts {
			continue
		}
		return saved, err
	}
}

// Load reads and decodes a rollout.
func (t *Transitions) Load(ctx context.Context, id int64) (Rollout, error) {
	ro, err := t.Store.GetRollout(ctx, id)
	if err != nil {
		return Rollout{}, fmt.Errorf("rollout %d: %w", id, err)
	}
	return Decode(ro)
}

// Save writes l if nobody changed the rollout since it was read;
// store.ErrConflict otherwise.
func (t *Transitions) Save(ctx context.Context, l Rollout) (Rollout, error) {
	if err := l.Encode(); err != nil {
		return l, err
	}
	row, err := t.Store.UpdateRollout(ctx, l.Row)
	if err != nil {
		return l, err
	}
	l.Row = row
	return l, nil
}

// ScheduleEffects asks the scheduler to carry out the rollout's outbox
// now. A failure here loses nothing: the sweep finds outboxes that no job
// is carrying out.
func (t *Transitions) ScheduleEffects(ctx context.Context, id int64) {
	_, err := t.Jobs.Schedule(ctx, queue.Job{Queue: JobQueue, Kind: JobEffects, Key: strconv.FormatInt(id, 10),
		DueAt: t.Clock.Now()})
	if err != nil {
		Log(t.Logger).Error("schedule effects; the sweep will retry", "rollout", id, "err", err)
		return
	}
	if t.Wake != nil {
		t.Wake()
	}
}

// ScheduleAnalysis has look of rollout id judged at at.
func (t *Transitions) ScheduleAnalysis(ctx context.Context, id int64, look int, at time.Time) error {
	payload, err := json.Marshal(JobPayload{Look: look})
	if err != nil {
		return err
	}
	_, err = t.Jobs.Schedule(ctx, queue.Job{Queue: JobQueue, Kind: JobAnalysis, Key: strconv.FormatInt(id, 10),
		DueAt: at, Payload: payload})
	return err
}

// judgePassing says the judge passed the current window at its latest
// look: /promote may then cut the window short.
func (l *Rollout) judgePassing() bool {
	a, st := l.Record.Analysis, l.Record.State
	return a != nil && a.Decision == string(judge.DecisionPass) && a.Since.Equal(st.Since) && a.Look == st.Look-1
}

// auditChange records the decisions a transition made: a pause, a resume,
// or the end of the rollout, with who decided and why.
func (l *Rollout) auditChange(before rollout.State, actor string) {
	after := l.Record.State
	switch _, ended := stored(after.Phase); {
	case after.Terminal():
		l.Push(Effect{Kind: EffectAudit, Action: ended, Actor: actor, Text: after.Reason, Stage: after.Stage})
	case after.Phase == rollout.Paused && before.Phase != rollout.Paused:
		l.Push(Effect{Kind: EffectAudit, Action: store.ActionRolloutPaused, Actor: actor, Text: after.Reason, Stage: after.Stage})
	case before.Phase == rollout.Paused && after.Phase != rollout.Paused:
		l.Push(Effect{Kind: EffectAudit, Action: store.ActionRolloutResumed, Actor: actor, Stage: after.Stage})
	}
}

// summarize turns the promotion's notice into the final summary: the
// stages passed, how long it took, and the last judgement of each metric.
func (l *Rollout) summarize(now time.Time) {
	for i := len(l.Record.Outbox) - 1; i >= 0; i-- {
		ef := &l.Record.Outbox[i]
		if ef.Kind != EffectNote {
			continue
		}
		traffic := make([]string, len(l.Plan.Stages))
		for j, s := range l.Plan.Stages {
			traffic[j] = fmt.Sprintf("%g %%", s.Traffic)
		}
		text := fmt.Sprintf("%s It passed %d stages (%s) in %s.", ef.Text, len(l.Plan.Stages),
			strings.Join(traffic, ", "), now.Sub(l.Row.CreatedAt).Round(time.Second))
		if a := l.Record.Analysis; a != nil {
			var last []string
			for _, m := range a.Metrics {
				last = append(last, fmt.Sprintf("%s %s (%s)", m.Name, m.Verdict, changeText(m)))
			}
			text += fmt.Sprintf(" Last judgement, look %d of %d: %s.", a.Look, a.Looks, strings.Join(last, "; "))
		}
		ef.Text = text
		return
	}
}

// changeText is a metric's change with its interval, or "no data".
func changeText(m LookMetric) string {
	c, lo, hi := float64(m.Change), float64(m.CI[0]), float64(m.CI[1])
	if math.IsNaN(c) {
		return "no data"
	}
	return fmt.Sprintf("%+.1f %% [%+.1f %%, %+.1f %%]", 100*c, 100*lo, 100*hi)
}
