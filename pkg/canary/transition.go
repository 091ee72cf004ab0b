package canary

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// maxConflicts bounds the retries of a transition that lost a race with
// another writer of the same rollout.
const maxConflicts = 20

// Bot is the actor of the engine's own decisions in the audit log.
const Bot = "modelgate"

// transition applies ev to rollout id: it reads the rollout, runs the
// state machine, stores the new state together with the effects it asks
// for, and only then schedules those effects. A refusal (wrapping
// rollout.ErrRefused) leaves the rollout as it was. mutate, when set, also
// changes the record in the same write.
func (e *Engine) transition(ctx context.Context, id int64, ev rollout.Event, actor string, mutate func(*loaded)) (loaded, error) {
	saved, err := e.update(ctx, id, func(l *loaded) error {
		before := l.rec.State
		if p, ok := ev.(rollout.Promote); ok {
			p.Passing = l.judgePassing()
			ev = p
		}
		next, actions, err := rollout.Next(l.plan, before, ev, e.now())
		if err != nil {
			return err
		}
		l.rec.State = next
		if mutate != nil {
			mutate(l)
		}
		l.enqueue(actions)
		if next.Phase == rollout.Promoted {
			l.summarize(e.now())
		}
		l.auditChange(before, actor)
		return nil
	})
	if err != nil {
		return saved, err
	}
	e.scheduleEffects(ctx, saved.row.ID)
	return saved, nil
}

// judgePassing says the judge passed the current window at its latest
// look: /promote may then cut the window short.
func (l *loaded) judgePassing() bool {
	a, st := l.rec.Analysis, l.rec.State
	return a != nil && a.Decision == string(judge.DecisionPass) && a.Since.Equal(st.Since) && a.Look == st.Look-1
}

// update reads rollout id, changes it with change and saves it; when
// another writer saved it first, it reads it again and changes it anew.
// An error from change leaves the rollout as it was.
func (e *Engine) update(ctx context.Context, id int64, change func(*loaded) error) (loaded, error) {
	for attempt := 1; ; attempt++ {
		l, err := e.load(ctx, id)
		if err != nil {
			return l, err
		}
		if err := change(&l); err != nil {
			return l, err
		}
		saved, err := e.save(ctx, l)
		if errors.Is(err, store.ErrConflict) && attempt < maxConflicts {
			continue
		}
		return saved, err
	}
}

// load reads and decodes a rollout.
func (e *Engine) load(ctx context.Context, id int64) (loaded, error) {
	ro, err := e.Store.GetRollout(ctx, id)
	if err != nil {
		return loaded{}, fmt.Errorf("rollout %d: %w", id, err)
	}
	return decode(ro)
}

// save writes l if nobody changed the rollout since it was read;
// store.ErrConflict otherwise.
func (e *Engine) save(ctx context.Context, l loaded) (loaded, error) {
	if err := l.encode(); err != nil {
		return l, err
	}
	row, err := e.Store.UpdateRollout(ctx, l.row)
	if err != nil {
		return l, err
	}
	l.row = row
	return l, nil
}

// auditChange records the decisions a transition made: a pause, a resume,
// or the end of the rollout, with who decided and why.
func (l *loaded) auditChange(before rollout.State, actor string) {
	after := l.rec.State
	switch {
	case after.Terminal():
		l.push(effect{Kind: effAudit, Action: endAction(after.Phase), Actor: actor, Text: after.Reason, Stage: after.Stage})
	case after.Phase == rollout.Paused && before.Phase != rollout.Paused:
		l.push(effect{Kind: effAudit, Action: store.ActionRolloutPaused, Actor: actor, Text: after.Reason, Stage: after.Stage})
	case before.Phase == rollout.Paused && after.Phase != rollout.Paused:
		l.push(effect{Kind: effAudit, Action: store.ActionRolloutResumed, Actor: actor, Stage: after.Stage})
	}
}

// endAction is the audit action of a terminal phase.
func endAction(p rollout.Phase) store.AuditAction {
	switch p {
	case rollout.Promoted:
		return store.ActionRolloutPromoted
	case rollout.RolledBack:
		return store.ActionRolloutRolledBack
	case rollout.Aborted:
		return store.ActionRolloutAborted
	}
	return store.ActionRolloutFailed
}

// The job kinds the engine schedules; the key is the rollout id.
const (
	jobEffects  = "rollout.effects"
	jobAnalysis = "rollout.analysis"
)

// scheduleEffects asks the scheduler to carry out the rollout's outbox
// now. A failure here loses nothing: the sweep finds outboxes that no job
// is carrying out.
func (e *Engine) scheduleEffects(ctx context.Context, id int64) {
	_, err := e.Store.ScheduleJob(ctx, store.Job{Kind: jobEffects, Key: strconv.FormatInt(id, 10), DueAt: e.now()})
	if err != nil {
		e.logger().Error("schedule effects; the sweep will retry", "rollout", id, "err", err)
		return
	}
	e.Wake()
}

// Wake tells the scheduler that work may be due now.
func (e *Engine) Wake() {
	select {
	case e.wakeChan() <- struct{}{}:
	default:
	}
}
