package canary

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// dryRun answers /canary --dry-run: what would be deployed, with which
// plan, and every gate that would block it. It writes nothing.
func (e *Engine) dryRun(ctx context.Context, client Commands, req chatops.Request) (chatops.Outcome, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "**Dry run: nothing was deployed and nothing changed.** `/canary` would deploy commit %s, the head of #%d.\n\n",
		short(req.PullRequest.HeadSHA), req.PullRequest.Number)
	gates := newGates()
	cfg := req.RepoConfig()
	if req.ConfigErr != nil {
		gates.add(false, "repository configuration", markdown.Text(req.ConfigErr.Error()))
	}
	why := forkRefusal(req, cfg)
	if why != "" {
		gates.add(false, "fork", why)
	}
	why, err := e.pinnedRefusal(ctx, req)
	if err != nil {
		return chatops.Outcome{}, err
	}
	if why != "" {
		gates.add(false, "pinned commit", why)
	}
	why, err = e.commitRefusal(ctx, client, req)
	if err != nil {
		return chatops.Outcome{}, err
	}
	gates.add(why == "", "validation and draft", orDefault(why, "the head commit passed the modelgate checks"))
	if len(req.PolicyReasons) > 0 {
		gates.add(false, "governance policies", "refuse: "+markdown.Text(strings.Join(req.PolicyReasons, "; ")))
	} else {
		gates.add(true, "governance policies", "allow it")
	}
	gates.add(true, "approvals", approvals(req.Approvers))
	for _, t := range req.Targets {
		if err := e.dryRunTarget(ctx, req, t, cfg.Rollout, &gates, &b); err != nil {
			return chatops.Outcome{}, err
		}
	}
	b.WriteString(gates.render())
	verdict := "\n\nEvery gate is open: `/canary` would start now."
	if gates.closed > 0 {
		verdict = fmt.Sprintf("\n\n%d gate(s) would block `/canary`.", gates.closed)
	}
	b.WriteString(verdict)
	return chatops.Outcome{Reply: b.String(), Reason: fmt.Sprintf("dry run: %d gate(s) closed", gates.closed)}, nil
}

// dryRunTarget describes one model's rollout and checks its own gates.
func (e *Engine) dryRunTarget(ctx context.Context, req chatops.Request, t chatops.Target, defaults map[string]any, g *gates, b *strings.Builder) error {
	p, why, err := e.prepare(ctx, req, t, defaults)
	if err != nil {
		return err
	}
	name := markdown.Code(t.Model)
	if why != "" {
		fmt.Fprintf(b, "#### %s\n\n%s\n\n", name, why)
		g.add(false, name, why)
		return nil
	}
	fmt.Fprintf(b, "#### %s %s against %s in %s\n\n", name, markdown.Code(t.Version), markdown.Code(p.baseline), markdown.Code(p.plan.Environment))
	b.WriteString(planTable(p.plan))
	lock, err := e.lockOf(ctx, req.Repo.FullName(), p.plan.Environment)
	if err != nil {
		return err
	}
	if lock != nil {
		g.add(false, "lock on "+markdown.Code(p.plan.Environment), lockedText(*lock))
	} else {
		g.add(true, "lock on "+markdown.Code(p.plan.Environment), "not locked")
	}
	h, err := e.activeHolder(ctx, store.Rollout{Repo: req.Repo.FullName(), Model: t.Model, Environment: p.plan.Environment})
	if err != nil {
		return fmt.Errorf("active rollouts of %s: %w", t.Model, err)
	}
	if h != nil {
		g.add(false, "one rollout of "+name, holderText(h, p.plan.Environment))
	} else {
		g.add(true, "one rollout of "+name, "no other rollout of it is active in "+markdown.Code(p.plan.Environment))
	}
	return nil
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

// gates lists what would let /canary through or block it.
type gates struct {
	lines  []string
	closed int
}

func newGates() gates { return gates{} }

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
