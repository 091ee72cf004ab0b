package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/modelgate/modelgate/pkg/analysis"
	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// Canary starts a rollout of each model the command names (or the pull
// request changes), at the head commit the command was given for, once
// its gates are open; with --dry-run it reports every gate instead.
func (c *Commands) Canary(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	if req.Command.DryRun {
		return c.dryRun(ctx, req)
	}
	var r reply
	why, err := c.firstClosed(ctx, c.requestGates(req))
	if err != nil {
		return chatops.Outcome{}, err
	}
	if why != "" {
		r.refuse("%s", why)
		return r.outcome(), nil
	}
	for _, t := range req.Targets {
		p, why, err := c.prepare(ctx, req, t)
		if err != nil {
			return chatops.Outcome{}, err
		}
		if why != "" {
			r.refuse("%s: %s", markdown.Code(t.Model), why)
			continue
		}
		if err := c.start(ctx, req, p, &r); err != nil {
			return chatops.Outcome{}, err
		}
	}
	return r.outcome(), nil
}

// prepared is a rollout ready to start.
type prepared struct {
	target   chatops.Target
	plan     rollout.Plan
	baseline string
	state    rollout.State
	actions  []rollout.Action
}

// prepare reads the target's plan and baseline and starts the machine;
// why says what stops it.
func (c *Commands) prepare(ctx context.Context, req chatops.Request, t chatops.Target) (prepared, string, error) {
	p := prepared{target: t}
	if t.Model == "" || t.Version == "" {
		return p, fmt.Sprintf("the manifest %s names no model or version.", markdown.Code(t.Path)), nil
	}
	plan, err := rollout.ParsePlan(t.Rollout(), req.RepoConfig().Rollout)
	if err != nil {
		return p, fmt.Sprintf("the rollout plan of %s is not valid: %s", markdown.Code(t.Path), markdown.Text(err.Error())), nil
	}
	if err := analysis.CheckPlan(plan); err != nil {
		return p, fmt.Sprintf("the rollout plan of %s cannot be judged: %s", markdown.Code(t.Path), markdown.Text(err.Error())), nil
	}
	if len(plan.Analysis.Metrics) > 0 {
		if _, err := c.Providers.Lookup(plan.Analysis.Provider); err != nil {
			return p, markdown.Text(err.Error()), nil
		}
	}
	p.plan = plan
	p.baseline = plan.Baseline
	if p.baseline == "" {
		if p.baseline, err = c.liveVersion(ctx, req.Repo.FullName(), t.Model, plan.Environment); err != nil {
			return p, "", err
		}
	}
	if p.baseline == "" {
		return p, fmt.Sprintf("no version of it is live in %s yet, so there is no baseline to compare with; set `spec.rollout.baseline`.",
			markdown.Code(plan.Environment)), nil
	}
	if p.baseline == t.Version {
		return p, fmt.Sprintf("%s is already the live version in %s.", markdown.Code(t.Version), markdown.Code(plan.Environment)), nil
	}
	p.state, p.actions, err = rollout.Start(plan, t.Version, p.baseline)
	if err != nil {
		return p, markdown.Text(err.Error()), nil
	}
	return p, "", nil
}

// liveVersion is the version of the model that the last promoted rollout
// left serving the environment, or "".
func (c *Commands) liveVersion(ctx context.Context, repo, model, env string) (string, error) {
	rows, err := c.Store.ListRollouts(ctx, store.RolloutFilter{Repo: repo, Model: model, Environment: env,
		States: []store.RolloutState{store.RolloutPromoted}, Limit: 1})
	if err != nil {
		return "", fmt.Errorf("live version of %s in %s: %w", model, env, err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].Version, nil
}

// start stores the rollout with its first effects. The store decides the
// lock and one-rollout gates in the same write.
func (c *Commands) start(ctx context.Context, req chatops.Request, p prepared, r *reply) error {
	if earlier, err := c.startedEarlier(ctx, req, p); err != nil || earlier != nil {
		switch {
		case earlier != nil && earlier.Active():
			r.ok("Canary of %s %s is running; it was started by this comment.", markdown.Code(p.target.Model), markdown.Code(p.target.Version))
		case earlier != nil:
			r.ok("Canary of %s %s was started by this comment and has ended: %s.", markdown.Code(p.target.Model),
				markdown.Code(p.target.Version), strings.ReplaceAll(earlier.State, "_", " "))
		}
		return err
	}
	planJSON, err := json.Marshal(p.plan)
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	l := canary.Rollout{Plan: p.plan, Record: canary.Record{State: p.state, Delivery: req.DeliveryID}, Row: store.Rollout{
		Repo: req.Repo.FullName(), PR: req.PullRequest.Number, Model: p.target.Model, Version: p.target.Version,
		BaselineVersion: p.baseline, Environment: p.plan.Environment, HeadSHA: req.PullRequest.HeadSHA,
		StartedBy: req.Commenter, InstallationID: req.InstallationID, Plan: planJSON,
	}}
	l.Push(canary.Effect{Kind: canary.EffectAudit, Action: store.ActionRolloutStarted, Actor: req.Commenter,
		Text: fmt.Sprintf("canary of %s against %s at %s", p.target.Version, p.baseline, canary.Short(req.PullRequest.HeadSHA))})
	l.Enqueue(p.actions)
	_, err = c.Records.Start(ctx, l)
	switch {
	case errors.Is(err, store.ErrLocked):
		lock, lerr := c.lockOf(ctx, l.Row.Repo, l.Row.Environment)
		if lerr != nil || lock == nil {
			r.refuse("%s: %s is locked.", markdown.Code(p.target.Model), markdown.Code(l.Row.Environment))
			return lerr
		}
		r.refuse("%s: %s.", markdown.Code(p.target.Model), lockedText(*lock))
		return nil
	case errors.Is(err, store.ErrConflict):
		started, err := c.resolveConflict(ctx, req, l, p, r)
		if err != nil || !started {
			return err
		}
	case err != nil:
		return fmt.Errorf("store the rollout of %s: %w", p.target.Model, err)
	}
	st := p.plan.Stages[0]
	r.ok("Canary of %s %s against %s in %s started at %s: stage 1 of %d sends it %g %% of the traffic. "+
		"The deploy workflow answers deployment events; the status comment below follows the rollout.",
		markdown.Code(p.target.Model), markdown.Code(p.target.Version), markdown.Code(p.baseline),
		markdown.Code(p.plan.Environment), canary.Short(req.PullRequest.HeadSHA), len(p.plan.Stages), st.Traffic)
	return nil
}

// resolveConflict answers a /canary whose model and environment are
// held: by its own earlier delivery (say so again), by a pull request that
// was closed or merged (release it and start), or by a running rollout
// (refuse, naming it). It says whether it started the rollout.
func (c *Commands) resolveConflict(ctx context.Context, req chatops.Request, l canary.Rollout, p prepared, r *reply) (bool, error) {
	ro := l.Row
	h, err := c.activeHolder(ctx, ro)
	if err != nil {
		return false, err
	}
	if h != nil && startedBy(*h, req.DeliveryID) {
		r.ok("Canary of %s %s is running; it was started by this comment.", markdown.Code(p.target.Model), markdown.Code(p.target.Version))
		return false, nil
	}
	released, err := c.releaseClosedHolder(ctx, req, h)
	if err != nil {
		return false, err
	}
	if released == "" {
		r.refuse("%s: %s", markdown.Code(p.target.Model), holderText(h, ro.Environment))
		return false, nil
	}
	r.lines = append(r.lines, released)
	_, err = c.Records.Start(ctx, l)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrLocked) {
		// Another rollout took the model meanwhile.
		h, _ = c.activeHolder(ctx, ro)
		r.refuse("%s: %s", markdown.Code(p.target.Model), holderText(h, ro.Environment))
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store the rollout of %s: %w", p.target.Model, err)
	}
	return true, nil
}

// startedEarlier is the rollout of the target that this command's
// delivery started already, active or ended, or nil: a delivery tried
// again after its rollout ended must not start another.
func (c *Commands) startedEarlier(ctx context.Context, req chatops.Request, p prepared) (*store.Rollout, error) {
	if req.DeliveryID == "" {
		return nil, nil
	}
	rows, err := c.Store.ListRollouts(ctx, store.RolloutFilter{Repo: req.Repo.FullName(), PR: req.PullRequest.Number,
		Model: p.target.Model, Environment: p.plan.Environment, Limit: 20})
	if err != nil {
		return nil, fmt.Errorf("rollouts of %s: %w", p.target.Model, err)
	}
	for _, ro := range rows {
		if startedBy(ro, req.DeliveryID) {
			return &ro, nil
		}
	}
	return nil, nil
}

// activeHolder is the active rollout of ro's model and environment, or nil.
func (c *Commands) activeHolder(ctx context.Context, ro store.Rollout) (*store.Rollout, error) {
	rows, err := c.Store.ListRollouts(ctx, store.RolloutFilter{Repo: ro.Repo, Model: ro.Model, Environment: ro.Environment, ActiveOnly: true, Limit: 1})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// startedBy reports whether rollout h was started by the webhook delivery id.
func startedBy(h store.Rollout, delivery string) bool {
	if delivery == "" {
		return false
	}
	l, err := canary.Decode(h)
	return err == nil && l.Record.Delivery == delivery
}

// releaseClosedHolder releases h, the rollout that holds the model and
// environment, when its pull request is closed or merged (its close was
// missed), and says so; "" when the holder is still open.
func (c *Commands) releaseClosedHolder(ctx context.Context, req chatops.Request, h *store.Rollout) (string, error) {
	if h == nil || h.PR == req.PullRequest.Number || req.GitHub == nil {
		return "", nil
	}
	var client GitHub = req.GitHub
	pr, err := client.PullRequest(ctx, req.Repo, h.PR)
	if err != nil && !errors.Is(err, gh.ErrNotFound) {
		return "", fmt.Errorf("pull request #%d: %w", h.PR, err)
	}
	if err == nil && pr.State == "open" {
		return "", nil
	}
	if err := c.Records.Release(ctx, *h, canary.ClosedReason(h.PR, pr.Merged), canary.Bot); err != nil {
		return "", err
	}
	return fmt.Sprintf("Released the rollout of %s %s from #%d, which is %s: its traffic returns to %s.",
		markdown.Code(h.Model), markdown.Code(h.Version), h.PR, orDefault(mergedWord(pr), "gone"), markdown.Code(h.BaselineVersion)), nil
}

func mergedWord(pr gh.PullRequest) string {
	switch {
	case pr.Merged:
		return "merged"
	case pr.State != "":
		return pr.State
	}
	return ""
}

// holderText names the rollout that holds a model and environment, or
// says only that one does when h is nil.
func holderText(h *store.Rollout, environment string) string {
	if h == nil {
		return fmt.Sprintf("another rollout of it is active in %s.", markdown.Code(environment))
	}
	return fmt.Sprintf("%s %s is already rolling out in %s from #%d (stage %d, %d %%, %s); one rollout per model and environment at a time.",
		markdown.Code(h.Model), markdown.Code(h.Version), markdown.Code(h.Environment), h.PR, h.Stage+1, h.TrafficPercent, h.State)
}
