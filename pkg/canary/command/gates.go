package command

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/config"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// gate is one condition of /canary. /canary stops at the first closed
// gate; /canary --dry-run evaluates the same list and shows every one.
type gate struct {
	name string
	// check says why the gate is closed ("" when open), and what to show
	// of it when open ("": nothing, the gate is only worth a line when it
	// closes).
	check func(ctx context.Context) (closed, open string, err error)
}

// requestGates are the gates of the command as a whole, in order.
func (c *Commands) requestGates(req chatops.Request) []gate {
	return []gate{
		{"repository configuration", func(context.Context) (string, string, error) {
			if req.ConfigErr != nil {
				return markdown.Text(req.ConfigErr.Error()), "", nil
			}
			return "", "", nil
		}},
		{"fork", func(context.Context) (string, string, error) {
			return forkRefusal(req, req.RepoConfig()), "", nil
		}},
		{"pinned commit", func(ctx context.Context) (string, string, error) {
			why, err := c.pinnedRefusal(ctx, req)
			return why, "", err
		}},
		{"validation and draft", func(ctx context.Context) (string, string, error) {
			why, err := c.commitRefusal(ctx, req)
			return why, "the head commit passed the modelgate checks", err
		}},
		{"governance policies", func(context.Context) (string, string, error) {
			// chatops refuses /canary for the policies' reasons before it
			// gets here; a dry run is carried out to report them.
			if len(req.PolicyReasons) > 0 {
				return "refuse: " + markdown.Text(strings.Join(req.PolicyReasons, "; ")), "", nil
			}
			return "", "allow it", nil
		}},
		{"approvals", func(context.Context) (string, string, error) {
			return "", approvals(req.Approvers), nil
		}},
	}
}

// targetGates are the gates of one model's rollout. The store decides
// both in the write that creates the rollout, so that two replicas cannot
// race past them: /canary does not look first (start reports what the
// store decided), the dry run shows what the store would find now.
func (c *Commands) targetGates(req chatops.Request, p prepared) []gate {
	env := markdown.Code(p.plan.Environment)
	return []gate{
		{"lock on " + env, func(ctx context.Context) (string, string, error) {
			lock, err := c.lockOf(ctx, req.Repo.FullName(), p.plan.Environment)
			if err != nil || lock == nil {
				return "", "not locked", err
			}
			return lockedText(*lock), "", nil
		}},
		{"one rollout of " + markdown.Code(p.target.Model), func(ctx context.Context) (string, string, error) {
			h, err := c.activeHolder(ctx, store.Rollout{Repo: req.Repo.FullName(), Model: p.target.Model, Environment: p.plan.Environment})
			if err != nil {
				return "", "", fmt.Errorf("active rollouts of %s: %w", p.target.Model, err)
			}
			if h != nil {
				return holderText(h, p.plan.Environment), "", nil
			}
			return "", "no other rollout of it is active in " + env, nil
		}},
	}
}

// firstClosed says why the first closed gate is closed, or "".
func (c *Commands) firstClosed(ctx context.Context, gates []gate) (string, error) {
	for _, g := range gates {
		closed, _, err := g.check(ctx)
		if err != nil || closed != "" {
			return closed, err
		}
	}
	return "", nil
}

// commitRefusal says why the pull request's head may not be rolled out:
// a draft, or a validation check that has not passed on the head commit.
func (c *Commands) commitRefusal(ctx context.Context, req chatops.Request) (string, error) {
	pr := req.PullRequest
	if pr.Draft {
		return fmt.Sprintf("#%d is a draft; mark it ready for review first.", pr.Number), nil
	}
	pattern := c.ChecksPattern
	if pattern == "" {
		pattern = DefaultChecksPattern
	}
	if pattern == "-" {
		return "", nil
	}
	if req.GitHub == nil {
		return "", errors.New("check runs: no GitHub client came with the command")
	}
	var client GitHub = req.GitHub
	runs, err := client.CheckRuns(ctx, req.Repo, pr.HeadSHA)
	if err != nil {
		return "", fmt.Errorf("check runs of %s: %w", canary.Short(pr.HeadSHA), err)
	}
	var seen int
	for _, r := range runs {
		if !strings.Contains(strings.ToLower(r.Name), strings.ToLower(pattern)) {
			continue
		}
		seen++
		switch {
		case r.Status != "completed":
			return fmt.Sprintf("the check %s is still %s on %s; wait for it.", markdown.Code(r.Name), r.Status, canary.Short(pr.HeadSHA)), nil
		case r.Conclusion != "success" && r.Conclusion != "neutral" && r.Conclusion != "skipped":
			return fmt.Sprintf("the check %s concluded %s on %s; the models must pass validation before a canary.",
				markdown.Code(r.Name), r.Conclusion, canary.Short(pr.HeadSHA)), nil
		}
	}
	if seen == 0 {
		return fmt.Sprintf("no check run named like %s has run on %s; the models must pass the modelgate validation before a canary.",
			markdown.Code(pattern), canary.Short(pr.HeadSHA)), nil
	}
	return "", nil
}

// pinnedRefusal refuses a command written before the pull request's
// last push: it asked for a commit that is no longer the head.
func (c *Commands) pinnedRefusal(ctx context.Context, req chatops.Request) (string, error) {
	head, err := canary.PushedSince(ctx, c.Store, req.Repo.FullName(), req.PullRequest.Number, req.CommentedAt)
	if err != nil || head == "" {
		return "", err
	}
	return fmt.Sprintf("commits were pushed to #%d after this comment (the head is now %s); review them, then `/canary` again to roll out the new head.",
		req.PullRequest.Number, canary.Short(head)), nil
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

// dryRun answers /canary --dry-run: what would be deployed, with which
// plan, and every gate that would block it. It writes nothing.
func (c *Commands) dryRun(ctx context.Context, req chatops.Request) (chatops.Outcome, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "**Dry run: nothing was deployed and nothing changed.** `/canary` would deploy commit %s, the head of #%d.\n\n",
		canary.Short(req.PullRequest.HeadSHA), req.PullRequest.Number)
	var list gates
	if err := list.evaluate(ctx, c.requestGates(req)); err != nil {
		return chatops.Outcome{}, err
	}
	for _, t := range req.Targets {
		p, why, err := c.prepare(ctx, req, t)
		if err != nil {
			return chatops.Outcome{}, err
		}
		name := markdown.Code(t.Model)
		if why != "" {
			fmt.Fprintf(&b, "#### %s\n\n%s\n\n", name, why)
			list.add(false, name, why)
			continue
		}
		fmt.Fprintf(&b, "#### %s %s against %s in %s\n\n", name, markdown.Code(t.Version), markdown.Code(p.baseline), markdown.Code(p.plan.Environment))
		b.WriteString(planTable(p.plan))
		if err := list.evaluate(ctx, c.targetGates(req, p)); err != nil {
			return chatops.Outcome{}, err
		}
	}
	b.WriteString(list.render())
	verdict := "\n\nEvery gate is open: `/canary` would start now."
	if list.closed > 0 {
		verdict = fmt.Sprintf("\n\n%d gate(s) would block `/canary`.", list.closed)
	}
	b.WriteString(verdict)
	return chatops.Outcome{Reply: b.String(), Reason: fmt.Sprintf("dry run: %d gate(s) closed", list.closed)}, nil
}

// planTable renders a plan's stages and metrics.
func planTable(p rollout.Plan) string {
	var b strings.Builder
	b.WriteString("| stage | traffic | analysis window | gate |\n|---:|---:|---|---|\n")
	for i, s := range p.Stages {
		window, gate := "none", "auto"
		if s.Analysis > 0 {
			window = fmt.Sprintf("%s (%d looks)", s.Analysis, p.Looks(i))
		}
		if s.Gate == rollout.GateManual {
			gate = "manual: waits for `/promote`"
		}
		fmt.Fprintf(&b, "| %d | %g %% | %s | %s |\n", i+1, s.Traffic, window, gate)
	}
	if len(p.Analysis.Metrics) == 0 {
		b.WriteString("\nNo metrics: stages pass on the deploy workflow's success alone.\n\n")
		return b.String()
	}
	fmt.Fprintf(&b, "\nJudged every %s from the %s provider:\n\n| metric | bad direction | tolerance | critical |\n|---|---|---:|---|\n",
		p.Analysis.Interval, markdown.Code(p.Analysis.Provider))
	for _, m := range p.Analysis.Metrics {
		dir := "increase"
		if m.Direction == "decrease_is_bad" {
			dir = "decrease"
		}
		crit := "no"
		if m.Critical {
			crit = "yes: rolls back at once"
		}
		fmt.Fprintf(&b, "| %s | %s | %g %% | %s |\n", markdown.Code(m.Name), dir, 100*m.Tolerance, crit)
	}
	b.WriteString("\n")
	return b.String()
}

func approvals(who []string) string {
	if len(who) == 0 {
		return "none yet"
	}
	logins := make([]string, len(who))
	for i, w := range who {
		logins[i] = markdown.Text(w)
	}
	return fmt.Sprintf("%d (%s)", len(who), strings.Join(logins, ", "))
}

// gates is what a dry run found: one line per gate shown.
type gates struct {
	lines  []string
	closed int
}

// evaluate checks every gate of list and adds those worth a line.
func (g *gates) evaluate(ctx context.Context, list []gate) error {
	for _, gt := range list {
		closed, open, err := gt.check(ctx)
		if err != nil {
			return err
		}
		switch {
		case closed != "":
			g.add(false, gt.name, closed)
		case open != "":
			g.add(true, gt.name, open)
		}
	}
	return nil
}

func (g *gates) add(open bool, name, detail string) {
	mark := "✅"
	if !open {
		mark = "⛔"
		g.closed++
	}
	g.lines = append(g.lines, fmt.Sprintf("- %s %s: %s", mark, name, detail))
}

func (g *gates) render() string {
	return "**Gates**\n\n" + strings.Join(g.lines, "\n")
}
