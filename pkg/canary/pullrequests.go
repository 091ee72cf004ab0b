package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// PullRequestEvent is a pull_request webhook, as far as the engine reads it.
type PullRequestEvent struct {
	Repo    gh.Repo
	Number  int
	Action  string // closed, synchronize, ...
	Merged  bool
	HeadSHA string
	// At is when it happened on GitHub (the pull request's updated_at).
	At     time.Time
	Sender string
}

// HandlePullRequest keeps rollouts tied to their pull request: a closed or
// merged pull request releases its rollouts (traffic back to the
// baseline), and a push is recorded, so that a /canary written before it
// is refused, and told to the rollouts it leaves on their pinned commit.
func (e *Engine) HandlePullRequest(ctx context.Context, ev PullRequestEvent) error {
	switch ev.Action {
	case "closed":
		return e.release(ctx, ev)
	case "synchronize":
		return e.headMoved(ctx, ev)
	}
	return nil
}

// release rolls back the pull request's active rollouts.
func (e *Engine) release(ctx context.Context, ev PullRequestEvent) error {
	active, err := e.Store.ListRollouts(ctx, store.RolloutFilter{Repo: ev.Repo.FullName(), PR: ev.Number, ActiveOnly: true})
	if err != nil {
		return fmt.Errorf("rollouts of #%d: %w", ev.Number, err)
	}
	for _, ro := range active {
		if err := e.releaseOne(ctx, ro, closedReason(ev.Number, ev.Merged), ev.Sender); err != nil {
			return err
		}
	}
	return nil
}

func closedReason(number int, merged bool) string {
	verb := "closed"
	if merged {
		verb = "merged"
	}
	return fmt.Sprintf("#%d was %s before the rollout finished; the rollout is released and traffic returns to the baseline", number, verb)
}

func (e *Engine) releaseOne(ctx context.Context, ro store.Rollout, reason, actor string) error {
	_, err := e.transition(ctx, ro.ID, rollout.Rollback{Reason: reason}, orDefault(actor, Bot), nil)
	if errors.Is(err, rollout.ErrRefused) {
		return nil // it ended meanwhile
	}
	return err
}

// headMoved records the push and tells the pull request's rollouts.
func (e *Engine) headMoved(ctx context.Context, ev PullRequestEvent) error {
	at := ev.At
	if at.IsZero() {
		at = e.now()
	}
	details, _ := json.Marshal(map[string]any{"head_sha": ev.HeadSHA})
	if _, err := e.Store.AppendAudit(ctx, store.AuditEntry{At: at, Actor: ev.Sender, Action: store.ActionHeadMoved,
		Repo: ev.Repo.FullName(), PR: ev.Number, Decision: store.DecisionDone, Reason: "pushed " + short(ev.HeadSHA), Details: details}); err != nil {
		return fmt.Errorf("record the push to #%d: %w", ev.Number, err)
	}
	active, err := e.Store.ListRollouts(ctx, store.RolloutFilter{Repo: ev.Repo.FullName(), PR: ev.Number, ActiveOnly: true})
	if err != nil {
		return fmt.Errorf("rollouts of #%d: %w", ev.Number, err)
	}
	for _, ro := range active {
		if ro.HeadSHA == ev.HeadSHA {
			continue
		}
		text := fmt.Sprintf("The head of #%d moved to %s. This rollout stays on commit %s, the one `/canary` pinned; "+
			"`/promote` is refused until the head is back, `/rollback` then `/canary` rolls out the new commit.",
			ev.Number, short(ev.HeadSHA), short(ro.HeadSHA))
		if err := e.notify(ctx, ro.ID, text); err != nil {
			return err
		}
	}
	return nil
}

// notify queues a notice on a rollout without changing its state.
func (e *Engine) notify(ctx context.Context, id int64, text string) error {
	_, err := e.update(ctx, id, func(l *loaded) error {
		l.push(effect{Kind: effNote, Text: text, Stage: l.rec.State.Stage})
		return nil
	})
	if err != nil {
		return err
	}
	e.scheduleEffects(ctx, id)
	return nil
}

// pushedSince says whether commits were pushed to the pull request at or
// after t (when the command was written), as the pull_request webhooks
// told; "" when not, else the new head.
func (e *Engine) pushedSince(ctx context.Context, repo string, number int, t time.Time) (string, error) {
	if t.IsZero() {
		return "", nil
	}
	moves, err := e.Store.ListAudit(ctx, store.AuditFilter{Repo: repo, PR: number, Since: t})
	if err != nil {
		return "", fmt.Errorf("pushes to #%d: %w", number, err)
	}
	for _, m := range moves {
		if m.Action != store.ActionHeadMoved {
			continue
		}
		var d struct {
			HeadSHA string `json:"head_sha"`
		}
		_ = json.Unmarshal(m.Details, &d)
		return orDefault(d.HeadSHA, "a new commit"), nil
	}
	return "", nil
}
