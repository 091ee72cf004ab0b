package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/config"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// Canary starts a rollout of each model the command names (or the pull
// request changes), at the head commit the command was given for.
func (e *Engine) Canary(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	var client Commands = req.GitHub
	if req.Command.DryRun {
		return e.dryRun(ctx, client, req)
	}
	var r reply
	if req.ConfigErr != nil {
		r.refuse("%s", markdown.Text(req.ConfigErr.Error()))
		return r.outcome(), nil
	}
	cfg := req.RepoConfig()
	why := forkRefusal(req, cfg)
	var err error
	if why == "" {
		why, err = e.pinnedRefusal(ctx, req)
	}
	if why == "" && err == nil {
		why, err = e.commitRefusal(ctx, client, req)
	}
	if err != nil || why != "" {
		if err != nil {
			return chatops.Outcome{}, err
		}
		r.refuse("%s", why)
		return r.outcome(), nil
	}
	for _, t := range req.Targets {
		p, why, err := e.prepare(ctx, req, t, cfg.Rollout)
		if err != nil {
			return chatops.Outcome{}, err
		}
		if why != "" {
			r.refuse("%s: %s", markdown.Code(t.Model), why)
			continue
		}
		if err := e.start(ctx, req, p, &r); err != nil {
			return chatops.Outcome{}, err
		}
	}
	return r.outcome(), nil
}

// commitRefusal says why the pull request's head may not be rolled out:
// a draft, or a validation check that has not passed on the head commit.
func (e *Engine) commitRefusal(ctx context.Context, client Commands, req chatops.Request) (string, error) {
	pr := req.PullRequest
	if pr.Draft {
		return fmt.Sprintf("#%d is a draft; mark it ready for review first.", pr.Number), nil
	}
	pattern := e.ChecksPattern
	if pattern == "" {
		pattern = DefaultChecksPattern
	}
	if pattern == "-" {
		return "", nil
	}
	runs, err := client.CheckRuns(ctx, req.Repo, pr.HeadSHA)
	if err != nil {
		return "", fmt.Errorf("check runs of %s: %w", short(pr.HeadSHA), err)
	}
	var seen int
	for _, c := range runs {
		if !strings.Contains(strings.ToLower(c.Name), strings.ToLower(pattern)) {
			continue
		}
		seen++
		switch {
		case c.Status != "completed":
			return fmt.Sprintf("the check %s is still %s on %s; wait for it.", markdown.Code(c.Name), c.Status, short(pr.HeadSHA)), nil
		case c.Conclusion != "success" && c.Conclusion != "neutral" && c.Conclusion != "skipped":
			return fmt.Sprintf("the check %s concluded %s on %s; the models must pass validation before a canary.",
				markdown.Code(c.Name), c.Conclusion, short(pr.HeadSHA)), nil
		}
	}
	if seen == 0 {
		return fmt.Sprintf("no check run named like %s has run on %s; the models must pass the modelgate validation before a canary.",
			markdown.Code(pattern), short(pr.HeadSHA)), nil
	}
	return "", nil
}

// pinnedRefusal refuses a command written before the pull request's
// last push: it asked for a commit that is no longer the head.
func (e *Engine) pinnedRefusal(ctx context.Context, req chatops.Request) (string, error) {
	head, err := e.pushedSince(ctx, req.Repo.FullName(), req.PullRequest.Number, req.CommentedAt)
	if err != nil || head == "" {
		return "", err
	}
	return fmt.Sprintf("commits were pushed to #%d after this comment (the head is now %s); review them, then `/canary` again to roll out the new head.",
		req.PullRequest.Number, short(head)), nil
}

// forkRefusal refuses a pull request from a fork unless the repository's
// configuration lets forks be deployed.
func forkRefusal(req chatops.Request, cfg *config.Config) string {
	pr := req.PullRequest
	if pr.HeadRepo == "" || pr.HeadRepo == req.Repo.FullName() || cfg.Bot.AllowForks {
		return ""
	}
	return fmt.Sprintf("#%d comes from the fork %s; modelgate deploys forks only where `.github/modelgate.yml` on the default branch sets `bot: {allow-forks: true}`.",
		pr.Number, markdown.Code(pr.HeadRepo))
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
func (e *Engine) prepare(ctx context.Context, req chatops.Request, t chatops.Target, defaults map[string]any) (prepared, string, error) {
	p := prepared{target: t}
	if t.Model == "" || t.Version == "" {
		return p, fmt.Sprintf("the manifest %s names no model or version.", markdown.Code(t.Path)), nil
	}
	plan, err := rollout.ParsePlan(t.Rollout(), defaults)
	if err != nil {
		return p, fmt.Sprintf("the rollout plan of %s is not valid: %s", markdown.Code(t.Path), markdown.Text(err.Error())), nil
	}
	if len(plan.Analysis.Metrics) > 0 {
		if _, err := e.Providers.Lookup(plan.Analysis.Provider); err != nil {
			return p, markdown.Text(err.Error()), nil
		}
	}
	p.plan = plan
	p.baseline = plan.Baseline
	if p.baseline == "" {
		if p.baseline, err = e.liveVersion(ctx, req.Repo.FullName(), t.Model, plan.Environment); err != nil {
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
func (e *Engine) liveVersion(ctx context.Context, repo, model, env string) (string, error) {
	rows, err := e.Store.ListRollouts(ctx, store.RolloutFilter{Repo: repo, Model: model, Environment: env,
		States: []store.RolloutState{store.RolloutPromoted}, Limit: 1})
	if err != nil {
		return "", fmt.Errorf("live version of %s in %s: %w", model, env, err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].Version, nil
}

// start stores the rollout with its first effects, then schedules them.
func (e *Engine) start(ctx context.Context, req chatops.Request, p prepared, r *reply) error {
	planJSON, err := json.Marshal(p.plan)
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	l := loaded{plan: p.plan, rec: record{State: p.state, Delivery: req.DeliveryID}, row: store.Rollout{
		Repo: req.Repo.FullName(), PR: req.PullRequest.Number, Model: p.target.Model, Version: p.target.Version,
		BaselineVersion: p.baseline, Environment: p.plan.Environment, HeadSHA: req.PullRequest.HeadSHA,
		StartedBy: req.Commenter, InstallationID: req.InstallationID, Plan: planJSON,
	}}
	l.push(effect{Kind: effAudit, Action: store.ActionRolloutStarted, Actor: req.Commenter,
		Text: fmt.Sprintf("canary of %s against %s at %s", p.target.Version, p.baseline, short(req.PullRequest.HeadSHA))})
	l.enqueue(p.actions)
	if err := l.encode(); err != nil {
		return err
	}
	row, err := e.Store.CreateRollout(ctx, l.row)
	switch {
	case errors.Is(err, store.ErrLocked):
		lock, lerr := e.lockOf(ctx, l.row.Repo, l.row.Environment)
		if lerr != nil || lock == nil {
			r.refuse("%s: %s is locked.", markdown.Code(p.target.Model), markdown.Code(l.row.Environment))
			return lerr
		}
		r.refuse("%s: %s.", markdown.Code(p.target.Model), lockedText(*lock))
		return nil
	case errors.Is(err, store.ErrConflict):
		created, err := e.resolveConflict(ctx, req, l.row, p, r)
		if err != nil || created == nil {
			return err
		}
		row = *created
	case err != nil:
		return fmt.Errorf("store the rollout of %s: %w", p.target.Model, err)
	}
	e.scheduleEffects(ctx, row.ID)
	st := p.plan.Stages[0]
	r.ok("Canary of %s %s against %s in %s started at %s: stage 1 of %d sends it %g %% of the traffic. "+
		"The deploy workflow answers deployment events; the status comment below follows the rollout.",
		markdown.Code(p.target.Model), markdown.Code(p.target.Version), markdown.Code(p.baseline),
		markdown.Code(p.plan.Environment), short(req.PullRequest.HeadSHA), len(p.plan.Stages), st.Traffic)
	return nil
}

// resolveConflict answers a /canary whose model and environment are
// held: by its own earlier delivery (say so again), by a pull request that
// was closed or merged (release it and start), or by a running rollout
// (refuse, naming it). It returns the rollout it created, if any.
func (e *Engine) resolveConflict(ctx context.Context, req chatops.Request, ro store.Rollout, p prepared, r *reply) (*store.Rollout, error) {
	h, err := e.activeHolder(ctx, ro)
	if err != nil {
		return nil, err
	}
	if h != nil && startedBy(*h, req.DeliveryID) {
		r.ok("Canary of %s %s is running; it was started by this comment.", markdown.Code(p.target.Model), markdown.Code(p.target.Version))
		return nil, nil
	}
	released, err := e.releaseClosedHolder(ctx, req, h)
	if err != nil {
		return nil, err
	}
	if released == "" {
		r.refuse("%s: %s", markdown.Code(p.target.Model), holderText(h, ro.Environment))
		return nil, nil
	}
	r.lines = append(r.lines, released)
	row, err := e.Store.CreateRollout(ctx, ro)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrLocked) {
		// Another rollout took the model meanwhile.
		h, _ = e.activeHolder(ctx, ro)
		r.refuse("%s: %s", markdown.Code(p.target.Model), holderText(h, ro.Environment))
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store the rollout of %s: %w", p.target.Model, err)
	}
	return &row, nil
}

// activeHolder is the active rollout of ro's model and environment, or nil.
func (e *Engine) activeHolder(ctx context.Context, ro store.Rollout) (*store.Rollout, error) {
	rows, err := e.Store.ListRollouts(ctx, store.RolloutFilter{Repo: ro.Repo, Model: ro.Model, Environment: ro.Environment, ActiveOnly: true, Limit: 1})
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
	l, err := decode(h)
	return err == nil && l.rec.Delivery == delivery
}

// releaseClosedHolder releases h, the rollout that holds the model and
// environment, when its pull request is closed or merged (its close was
// missed), and says so; "" when the holder is still open.
func (e *Engine) releaseClosedHolder(ctx context.Context, req chatops.Request, h *store.Rollout) (string, error) {
	if h == nil || h.PR == req.PullRequest.Number || req.GitHub == nil {
		return "", nil
	}
	pr, err := req.GitHub.PullRequest(ctx, req.Repo, h.PR)
	if err != nil && !errors.Is(err, gh.ErrNotFound) {
		return "", fmt.Errorf("pull request #%d: %w", h.PR, err)
	}
	if err == nil && pr.State == "open" {
		return "", nil
	}
	if err := e.releaseOne(ctx, *h, closedReason(h.PR, pr.Merged), Bot); err != nil {
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
