package chatops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgate/modelgate/pkg/config"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/manifest"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/repository"
	"github.com/modelgate/modelgate/pkg/store"
)

// rollout authorizes a command that changes a rollout or a lock, then
// routes it to Rollouts.
func (s *Service) rollout(ctx context.Context, r *run, perm string) (Outcome, error) {
	pr, err := r.gh.PullRequest(ctx, r.ev.Repo, r.ev.Number)
	if errors.Is(err, gh.ErrNotFound) {
		return refuse("pull request #%d was not found.", r.ev.Number), nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("pull request #%d: %w", r.ev.Number, err)
	}
	if pr.State != "open" {
		return refuse("#%d is %s; rollout commands need an open pull request.", pr.Number, pr.State), nil
	}
	cfg, cfgErr := s.repoConfig(ctx, r)
	targets, refusal, err := s.targets(ctx, r, pr, cfg)
	if err != nil || refusal != "" {
		return refuse("%s", refusal), err
	}
	approvers, err := r.gh.Approvers(ctx, r.ev.Repo, pr.Number)
	if err != nil {
		return Outcome{}, fmt.Errorf("reviews of #%d: %w", pr.Number, err)
	}
	reasons, err := s.authorize(ctx, r, perm, pr, approvers, targets)
	if err != nil {
		return Outcome{}, err
	}
	if len(reasons) > 0 && !r.cmd.DryRun {
		return refuse("The governance policies refuse `/%s`:\n%s", r.cmd.Name, bullets(reasons)), nil
	}
	return s.route(ctx, Request{
		Command: r.cmd, Repo: r.ev.Repo, PullRequest: pr, Commenter: r.ev.Commenter,
		DeliveryID: r.ev.DeliveryID, CommentID: r.ev.CommentID, Targets: targets, GitHub: r.gh,
		InstallationID: r.ev.InstallationID, PolicyReasons: reasons, Approvers: approvers, CommentedAt: r.ev.CreatedAt,
		Config: cfg, ConfigErr: cfgErr,
	})
}

func (s *Service) route(ctx context.Context, req Request) (Outcome, error) {
	handlers := map[string]func(context.Context, Request) (Outcome, error){
		Canary: s.Rollouts.Canary, Promote: s.Rollouts.Promote, Rollback: s.Rollouts.Rollback,
		Abort: s.Rollouts.Abort, Pause: s.Rollouts.Pause, Resume: s.Rollouts.Resume,
		Lock: s.Rollouts.Lock, Unlock: s.Rollouts.Unlock,
	}
	h, ok := handlers[req.Command.Name]
	if !ok {
		return Outcome{}, fmt.Errorf("no handler for /%s", req.Command.Name)
	}
	out, err := h(ctx, req)
	if err != nil {
		return Outcome{}, fmt.Errorf("/%s: %w", req.Command.Name, err)
	}
	return out, nil
}

// needsTargets says whether a command acts on the models the pull request
// changes, and so reads their manifests and the repository's configuration.
func needsTargets(name string) bool {
	switch name {
	case Canary, Promote, Rollback:
		return true
	}
	return false
}

// repoConfig reads .github/modelgate.yml from the default branch, for the
// commands that need it: the pull request cannot change the rules that
// apply to it. A configuration that cannot be read leaves the defaults and
// the error, which /canary refuses with; the others go on.
func (s *Service) repoConfig(ctx context.Context, r *run) (*config.Config, error) {
	if !needsTargets(r.cmd.Name) {
		return &config.Config{}, nil
	}
	raw, err := r.gh.FileAt(ctx, r.ev.Repo, config.Path, "")
	if errors.Is(err, gh.ErrNotFound) {
		return &config.Config{}, nil
	}
	if err != nil {
		return &config.Config{}, fmt.Errorf("read %s of the default branch: %w", config.Path, err)
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		return &config.Config{}, fmt.Errorf("the default branch's %w", err)
	}
	return cfg, nil
}

// targets finds the models a command acts on among the manifests the pull
// request changes, as the repository's manifest glob finds them: those
// named, or all of them when none is named.
func (s *Service) targets(ctx context.Context, r *run, pr gh.PullRequest, cfg *config.Config) ([]Target, string, error) {
	if !needsTargets(r.cmd.Name) {
		return nil, "", nil
	}
	glob, err := repository.Manifests(cfg.Manifests)
	if err != nil {
		return nil, fmt.Sprintf("The default branch's %s: %s.", markdown.Code(config.Path), markdown.Text(err.Error())), nil
	}
	files, err := r.gh.ChangedFiles(ctx, r.ev.Repo, pr.Number)
	if err != nil {
		return nil, "", fmt.Errorf("files of #%d: %w", pr.Number, err)
	}
	var found []Target
	for _, f := range files {
		if f.Status == "removed" || !glob.Matches(f.Path) {
			continue
		}
		t, err := s.loadTarget(ctx, r, f.Path, pr.HeadSHA)
		if err != nil {
			return nil, "", err
		}
		found = append(found, t)
	}
	return pickTargets(r.cmd, pr.Number, found)
}

func pickTargets(cmd Command, number int, found []Target) ([]Target, string, error) {
	names := make([]string, len(found))
	for i, t := range found {
		names[i] = t.Model
	}
	if len(found) == 0 {
		return nil, fmt.Sprintf("#%d changes no model manifest, so there is nothing to roll out.", number), nil
	}
	if len(cmd.Models) == 0 {
		if len(found) > 1 && cmd.Name != Canary {
			return nil, fmt.Sprintf("#%d changes several models (%s): name one, e.g. %s.",
				number, markdown.Text(strings.Join(names, ", ")), markdown.Code("/"+cmd.Name+" "+found[0].Model)), nil
		}
		return found, "", nil
	}
	var picked []Target
	for _, m := range cmd.Models {
		i := slices.Index(names, m)
		if i < 0 {
			return nil, fmt.Sprintf("#%d changes no manifest of model %s (it changes: %s).",
				number, markdown.Code(m), markdown.Text(strings.Join(names, ", "))), nil
		}
		picked = append(picked, found[i])
	}
	return picked, "", nil
}

// loadTarget reads a manifest at the pull request's head, as the action
// reads it (pkg/manifest: YAML or JSON, with the same limits).
func (s *Service) loadTarget(ctx context.Context, r *run, file, sha string) (Target, error) {
	raw, err := r.gh.FileAt(ctx, r.ev.Repo, file, sha)
	if err != nil {
		return Target{}, fmt.Errorf("read %s at %s: %w", file, sha, err)
	}
	doc, err := manifest.Decode(file, raw, manifest.DefaultLimits())
	m, isMap := doc.Value.(map[string]any)
	if err != nil || !isMap {
		return Target{Path: file, Model: "(unreadable " + file + ")"}, nil
	}
	md := manifest.FromDocument(file, doc)
	t := Target{Model: md.Metadata.Name, Version: md.Metadata.Version, Path: file, Manifest: m}
	t.Environment = str(t.Rollout()["environment"])
	return t, nil
}

// authorize asks the governance policies, once per target model.
func (s *Service) authorize(ctx context.Context, r *run, perm string, pr gh.PullRequest, approvers []string, targets []Target) ([]string, error) {
	if s.Policy == nil {
		return nil, nil
	}
	if len(targets) == 0 {
		targets = []Target{{Environment: r.cmd.Environment}}
	}
	var reasons []string
	for _, t := range targets {
		input, err := s.policyInput(ctx, r, perm, pr, approvers, t)
		if err != nil {
			return nil, err
		}
		got, err := s.Policy.Authorize(ctx, input)
		if err != nil {
			return nil, fmt.Errorf("authorize /%s: %w", r.cmd.Name, err)
		}
		for _, why := range got {
			if t.Model != "" && len(targets) > 1 {
				why = t.Model + ": " + why
			}
			reasons = append(reasons, why)
		}
	}
	return reasons, nil
}

// policyInput builds the input of package modelgate.authz.
func (s *Service) policyInput(ctx context.Context, r *run, perm string, pr gh.PullRequest, approvers []string, t Target) (map[string]any, error) {
	var manifest any
	if t.Manifest != nil {
		manifest = t.Manifest
	}
	var ro any
	if t.Model != "" {
		active, err := s.Store.ListRollouts(ctx, store.RolloutFilter{
			Repo: r.ev.Repo.FullName(), Model: t.Model, Environment: t.Environment, ActiveOnly: true, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(active) > 0 {
			ro = map[string]any{"id": active[0].ID, "stage": active[0].Stage, "traffic_percent": active[0].TrafficPercent,
				"state": active[0].State, "version": active[0].Version}
		}
	}
	env := t.Environment
	if r.cmd.Environment != "" {
		env = r.cmd.Environment
	}
	return map[string]any{
		"command": map[string]any{"name": r.cmd.Name, "args": stringsAny(r.cmd.Args), "model": nullable(t.Model),
			"environment": nullable(env), "dry_run": r.cmd.DryRun, "reason": r.cmd.Reason},
		"commenter": map[string]any{"login": r.ev.Commenter, "permission": perm},
		"manifest":  manifest,
		"pull_request": map[string]any{"number": pr.Number, "author": pr.Author, "labels": stringsAny(pr.Labels),
			"approvals": len(approvers), "approvers": stringsAny(approvers), "draft": pr.Draft, "head_sha": pr.HeadSHA},
		"rollout": ro,
	}, nil
}

func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// stringsAny converts for policy input, where OPA wants []any.
func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func bullets(items []string) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "- %s\n", markdown.Text(it))
	}
	return strings.TrimSuffix(b.String(), "\n")
}
