package canary

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/modelgate/modelgate/internal/failpoint"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// Subject is what an analysis judges: a rollout's model, plan and state.
type Subject struct {
	Model string
	Plan  rollout.Plan
	State rollout.State
}

// Analyzer judges one look of the current stage's analysis window: it
// returns the judged look, stored in the record and shown in the status
// comment, and the state machine's event. Provider failures are an
// AnalysisUnavailable event, not an error; only a cancelled context is.
type Analyzer interface {
	JudgeLook(ctx context.Context, s Subject, look int) (*Look, rollout.Event, error)
}

// Analysis runs the analysis job: it has a look judged and feeds the
// outcome to the state machine.
type Analysis struct {
	Transitions *Transitions
	Analyzer    Analyzer
	Logger      *slog.Logger
}

// Run judges look of rollout id's current window. A look that is no longer
// awaited does nothing. While an outage of the provider pauses the rollout,
// the awaited look is a probe: whether the provider answers it decides.
func (a *Analysis) Run(ctx context.Context, id int64, look int) error {
	l, err := a.Transitions.Load(ctx, id)
	if err != nil {
		return err
	}
	st := l.Record.State
	probe := st.Phase == rollout.Paused && st.Outage
	if (st.Phase != rollout.Analyzing && !probe) || st.Look != look {
		Log(a.Logger).Debug("stale analysis skipped", "rollout", id, "look", look, "phase", st.Phase, "awaited", st.Look)
		return nil
	}
	judged, ev, err := a.Analyzer.JudgeLook(ctx, Subject{Model: l.Row.Model, Plan: l.Plan, State: st}, look)
	if err != nil {
		return err
	}
	failpoint.Hit(failpoint.LookJudged, strconv.FormatInt(id, 10))
	planned := st.Since.Add(time.Duration(look) * l.Plan.Analysis.Interval)
	Observe(a.Transitions.Observer).Judged(judged, max(a.Transitions.Clock.Now().Sub(planned), 0))
	_, err = a.Transitions.Apply(ctx, id, ev, Bot, func(l *Rollout) {
		l.Record.Analysis = judged
		l.Push(Effect{Kind: EffectAudit, Action: store.ActionRolloutLook, Actor: Bot, Stage: st.Stage, Look: look,
			Text: judged.Decision + ": " + judged.Reason, Details: judged.Line})
	})
	if errors.Is(err, rollout.ErrRefused) {
		Log(a.Logger).Info("analysis outcome refused", "rollout", id, "look", look, "err", err)
		return nil
	}
	return err
}
