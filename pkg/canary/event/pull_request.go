package event

import (
	"context"
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/store"
)

// PullRequest is a pull_request webhook, as far as the engine reads it.
type PullRequest struct {
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
func (e *Events) HandlePullRequest(ctx context.Context, ev PullRequest) error {
	switch ev.Action {
	case "closed":
		return e.release(ctx, ev)
	case "synchronize":
		return e.headMoved(ctx, ev)
	}
	return nil
}

// release rolls back the pull request's active rollouts.
func (e *Events) release(ctx context.Context, ev PullRequest) error {
	active, err := e.Store.ListRollouts(ctx, store.RolloutFilter{Repo: ev.Repo.FullName(), PR: ev.Number, ActiveOnly: true})
	if err != nil {
		return fmt.Errorf("rollouts of #%d: %w", ev.Number, err)
	}
	for _, ro := range active {
		if err := e.Records.Release(ctx, ro, canary.ClosedReason(ev.Number, ev.Merged), ev.Sender); err != nil {
			return err
		}
	}
	return nil
}

// headMoved records the push and tells the pull request's rollouts.
func (e *Events) headMoved(ctx context.Context, ev PullRequest) error {
	at := ev.At
	if at.IsZero() {
		at = e.Clock.Now()
	}
	if err := canary.RecordPush(ctx, e.Store, ev.Repo.FullName(), ev.Number, ev.HeadSHA, ev.Sender, at); err != nil {
		return err
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
			ev.Number, canary.Short(ev.HeadSHA), canary.Short(ro.HeadSHA))
		if err := e.Records.Notify(ctx, ro.ID, text); err != nil {
			return err
		}
	}
	return nil
}
