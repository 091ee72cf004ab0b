package command

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// Promote passes a manual gate, or goes on from a pause.
func (c *Commands) Promote(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	return c.act(ctx, req, rollout.Promote{}, "promoted")
}

// Rollback sends the traffic back to the baseline; it is never refused
// for a lock.
func (c *Commands) Rollback(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	reason := req.Command.Reason
	if reason == "" {
		reason = "rolled back by @" + req.Commenter
	} else {
		reason = fmt.Sprintf("rolled back by @%s: %s", req.Commenter, reason)
	}
	return c.act(ctx, req, rollout.Rollback{Reason: reason}, "rolled back")
}

// Abort ends the rollout and sends the traffic back to the baseline.
func (c *Commands) Abort(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	return c.act(ctx, req, rollout.Abort{}, "aborted")
}

// Pause stops the analysis until /resume.
func (c *Commands) Pause(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	return c.act(ctx, req, rollout.Pause{}, "paused")
}

// Resume goes on from a pause.
func (c *Commands) Resume(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	return c.act(ctx, req, rollout.Resume{}, "resumed")
}

// act applies a command's event to the pull request's active rollouts of
// the models it names (all of them when it names none).
func (c *Commands) act(ctx context.Context, req chatops.Request, ev rollout.Event, verb string) (chatops.Outcome, error) {
	active, err := c.Store.ListRollouts(ctx, store.RolloutFilter{Repo: req.Repo.FullName(), PR: req.PullRequest.Number, ActiveOnly: true})
	if err != nil {
		return chatops.Outcome{}, fmt.Errorf("rollouts of #%d: %w", req.PullRequest.Number, err)
	}
	active = named(active, req.Command.Models)
	var r reply
	if len(active) == 0 {
		r.refuse("No rollout of this pull request is running%s, so there is nothing to %s.", forModels(req.Command.Models), markdown.Text(req.Command.Name))
		return r.outcome(), nil
	}
	for _, ro := range active {
		if why, err := c.blocked(ctx, req, ro); err != nil || why != "" {
			if err != nil {
				return chatops.Outcome{}, err
			}
			r.refuse("%s: %s", markdown.Code(ro.Model), why)
			continue
		}
		l, err := c.Records.Apply(ctx, ro.ID, ev, req.Commenter, nil)
		if errors.Is(err, rollout.ErrRefused) {
			r.refuse("%s %s: %s", markdown.Code(ro.Model), markdown.Code(ro.Version),
				markdown.Text(strings.TrimPrefix(err.Error(), rollout.ErrRefused.Error()+": ")))
			continue
		}
		if err != nil {
			return chatops.Outcome{}, err
		}
		r.ok("%s %s %s: %s.", markdown.Code(ro.Model), markdown.Code(ro.Version), verb, describe(l))
	}
	return r.outcome(), nil
}

// blocked says why a command may not act on a rollout now: a locked
// environment or a moved head refuse /promote (never /rollback, /abort or
// /pause, which only make things safer).
func (c *Commands) blocked(ctx context.Context, req chatops.Request, ro store.Rollout) (string, error) {
	if req.Command.Name != chatops.Promote && req.Command.Name != chatops.Resume {
		return "", nil
	}
	if req.PullRequest.HeadSHA != "" && req.PullRequest.HeadSHA != ro.HeadSHA {
		return fmt.Sprintf("the pull request's head moved from %s to %s since the rollout began; "+
			"/rollback, then /canary again to roll out the new commit.", canary.Short(ro.HeadSHA), canary.Short(req.PullRequest.HeadSHA)), nil
	}
	if req.Command.Name != chatops.Promote {
		return "", nil
	}
	lock, err := c.lockOf(ctx, ro.Repo, ro.Environment)
	if err != nil || lock == nil {
		return "", err
	}
	return lockedText(*lock), nil
}

func (c *Commands) lockOf(ctx context.Context, repo, env string) (*store.Lock, error) {
	locks, err := c.Store.ListLocks(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("locks of %s: %w", repo, err)
	}
	for _, l := range locks {
		if l.Environment == env {
			return &l, nil
		}
	}
	return nil, nil
}

func lockedText(l store.Lock) string {
	return fmt.Sprintf("%s is locked by @%s since %s: %s", markdown.Code(l.Environment), l.LockedBy,
		l.LockedAt.UTC().Format("2006-01-02 15:04 UTC"), markdown.Text(orDefault(l.Reason, "no reason given")))
}

// named keeps the rollouts of the models named, or all when none is.
func named(rows []store.Rollout, models []string) []store.Rollout {
	if len(models) == 0 {
		return rows
	}
	var out []store.Rollout
	for _, ro := range rows {
		for _, m := range models {
			if ro.Model == m {
				out = append(out, ro)
			}
		}
	}
	return out
}

func forModels(models []string) string {
	if len(models) == 0 {
		return ""
	}
	return " for " + markdown.Text(strings.Join(models, ", "))
}

// describe says where a rollout stands, for replies; the reason and the
// baseline may be PR text.
func describe(l canary.Rollout) string {
	st := l.Record.State
	if st.Terminal() {
		return fmt.Sprintf("%s (%s); traffic returns to %s", st.Phase, markdown.Text(st.Reason), markdown.Code(st.Baseline))
	}
	where := fmt.Sprintf("stage %d of %d (%g %%)", st.Stage+1, len(l.Plan.Stages), l.Plan.Stages[st.Stage].Traffic)
	return fmt.Sprintf("%s, %s", where, st.Phase)
}

// Lock freezes an environment: /canary and /promote are refused there
// until /unlock.
func (c *Commands) Lock(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	env := orDefault(req.Command.Environment, rollout.DefaultEnvironment)
	var r reply
	held, err := c.Store.LockEnvironment(ctx, store.Lock{Repo: req.Repo.FullName(), Environment: env,
		Reason: req.Command.Reason, LockedBy: req.Commenter, LockedAt: c.Clock.Now()})
	switch {
	case errors.Is(err, store.ErrLocked):
		r.refuse("%s already.", lockedText(held))
	case err != nil:
		return chatops.Outcome{}, fmt.Errorf("lock %s: %w", env, err)
	default:
		r.ok("%s is locked: `/canary` and `/promote` are refused there until `/unlock %s`; `/rollback` still works.", markdown.Code(env), markdown.Text(env))
	}
	return r.outcome(), nil
}

// Unlock lifts a lock.
func (c *Commands) Unlock(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	env := orDefault(req.Command.Environment, rollout.DefaultEnvironment)
	var r reply
	err := c.Store.UnlockEnvironment(ctx, req.Repo.FullName(), env)
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.refuse("%s is not locked.", markdown.Code(env))
	case err != nil:
		return chatops.Outcome{}, fmt.Errorf("unlock %s: %w", env, err)
	default:
		r.ok("%s is unlocked.", markdown.Code(env))
	}
	return r.outcome(), nil
}
