package live

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/modelgate/modelgate/pkg/rollout"
)

// Bounds on what the GitHub source reads.
const (
	// DefaultMaxPages is how many pages of 100 deployments are read,
	// newest first, when GitHub.MaxPages is 0.
	DefaultMaxPages = 5
	// maxPromoteChecks bounds the promotions whose statuses are read for
	// one model and environment before giving up on finding one that
	// succeeded.
	maxPromoteChecks = 5
	// statusPage is how many statuses of a deployment are read: enough to
	// look past the inactive ones GitHub adds when a later deployment of
	// the environment succeeds.
	statusPage = 10
)

// DeploymentsAPI is the part of go-github's RepositoriesService the GitHub
// source calls.
type DeploymentsAPI interface {
	ListDeployments(ctx context.Context, owner, repo string, opts *github.DeploymentsListOptions) ([]*github.Deployment, *github.Response, error)
	ListDeploymentStatuses(ctx context.Context, owner, repo string, deployment int64, opts *github.ListOptions) ([]*github.DeploymentStatus, *github.Response, error)
}

// GitHub reads the repository's GitHub Deployments the bot created: per
// model and environment, the newest deploy:promote whose latest status is
// success, and the canary of a rollout that has neither promoted nor rolled
// back yet.
type GitHub struct {
	API      DeploymentsAPI
	Repo     string // "owner/name"
	MaxPages int    // DefaultMaxPages when 0
}

// Name implements Source.
func (g GitHub) Name() string { return "github" }

// deployment is a deployment that carries the contract's payload.
type deployment struct {
	id          int64
	task        string
	environment string
	payload     rollout.Payload
}

// Snapshot implements Source: one call per page of deployments, then one
// per deployment whose status decides, newest first, stopping at the first
// that does.
func (g GitHub) Snapshot(ctx context.Context) (Snapshot, error) {
	owner, name, ok := strings.Cut(g.Repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return Snapshot{}, fmt.Errorf("repository %q is not owner/name", g.Repo)
	}
	r := &reader{api: g.API, owner: owner, name: name}
	deps, truncated, err := r.deployments(ctx, cmp.Or(max(g.MaxPages, 0), DefaultMaxPages))
	if err != nil {
		return Snapshot{}, err
	}
	found := map[key]traffic{}
	groups := byKey(deps)
	for _, k := range sortedKeys(groups) {
		ro, err := r.traffic(ctx, groups[k])
		if err != nil {
			return Snapshot{}, err
		}
		if ro.stable != nil || ro.canary != nil {
			found[k] = ro
		}
	}
	return Snapshot{Serving: flatten(found), Calls: r.calls, Truncated: truncated}, nil
}

// reader makes the API calls of one snapshot and counts them.
type reader struct {
	api         DeploymentsAPI
	owner, name string
	calls       int
}

// deployments lists the contract's deployments, newest first, reading at
// most maxPages pages; truncated says that more remained.
func (r *reader) deployments(ctx context.Context, maxPages int) (out []deployment, truncated bool, err error) {
	opts := &github.DeploymentsListOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for range maxPages {
		page, resp, err := r.api.ListDeployments(ctx, r.owner, r.name, opts)
		r.calls++
		if err != nil {
			return nil, false, fmt.Errorf("list deployments of %s/%s: %w", r.owner, r.name, explain(err, r.owner+"/"+r.name))
		}
		for _, d := range page {
			if dep, ok := readDeployment(d); ok {
				out = append(out, dep)
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return out, false, nil
		}
		opts.Page = resp.NextPage
	}
	return out, true, nil
}

// readDeployment keeps a deployment made under the contract: a known task
// and a payload naming a model, a version, a stage and a rollout, with a
// share of the traffic between 0 and 100 %. The
// payload may be an object or, from some clients, a JSON string.
func readDeployment(d *github.Deployment) (deployment, bool) {
	task := d.GetTask()
	if task != rollout.TaskCanary && task != rollout.TaskPromote && task != rollout.TaskRollback {
		return deployment{}, false
	}
	p, ok := rollout.ReadPayload(d.Payload)
	if !ok {
		return deployment{}, false
	}
	return deployment{id: d.GetID(), task: task, environment: d.GetEnvironment(), payload: p}, true
}

// byKey groups deployments by model and environment, keeping their order.
func byKey(deps []deployment) map[key][]deployment {
	out := map[key][]deployment{}
	for _, d := range deps {
		k := key{d.payload.Model, d.environment}
		out[k] = append(out[k], d)
	}
	return out
}

// traffic finds the stable version and the canary of one model in one
// environment from its deployments, newest first.
func (r *reader) traffic(ctx context.Context, ds []deployment) (traffic, error) {
	var ro traffic
	canary, err := r.canary(ctx, ds)
	if err != nil {
		return ro, err
	}
	if canary != nil {
		ro.canary, ro.baseline = canary, ds[0].payload.BaselineVersion
	}
	ro.stable, err = r.promoted(ctx, ds)
	return ro, err
}

// canary is the stage of an unfinished rollout that serves: the newest
// deployment must be a canary; its stages are tried newest first, passing
// over those the deploy workflow has not taken up yet (queued, pending, no
// status), since the stage before still serves then.
func (r *reader) canary(ctx context.Context, ds []deployment) (*Serving, error) {
	head := ds[0]
	if head.task != rollout.TaskCanary {
		return nil, nil
	}
	for _, d := range ds {
		if d.task != rollout.TaskCanary || d.payload.RolloutID != head.payload.RolloutID {
			return nil, nil
		}
		st, err := r.status(ctx, d.id)
		if err != nil {
			return nil, err
		}
		switch st.state {
		case "success", "in_progress":
			return &Serving{Version: d.payload.Version, TrafficPercent: d.payload.TrafficPercent, Since: st.since}, nil
		case "", "queued", "pending":
			continue
		default: // failure, error, inactive: the rollout ended
			return nil, nil
		}
	}
	return nil, nil
}

// promoted is the version of the newest promotion whose latest status is
// success, unless its rollout rolled back since.
func (r *reader) promoted(ctx context.Context, ds []deployment) (*Serving, error) {
	rolledBack := map[int64]bool{}
	for _, d := range ds {
		if d.task == rollout.TaskRollback {
			rolledBack[d.payload.RolloutID] = true
		}
	}
	checked := 0
	for _, d := range ds {
		if d.task != rollout.TaskPromote || rolledBack[d.payload.RolloutID] {
			continue
		}
		if checked == maxPromoteChecks {
			return nil, nil
		}
		checked++
		st, err := r.status(ctx, d.id)
		if err != nil {
			return nil, err
		}
		if st.state == "success" {
			return &Serving{Version: d.payload.Version, TrafficPercent: 100, Since: st.since}, nil
		}
	}
	return nil, nil
}

// deploymentState is a deployment's latest state, inactive ones passed
// over, and since when it has served ("success" or "in_progress" without a
// break).
type deploymentState struct {
	state string // "" without statuses
	since time.Time
}

// status reads a deployment's newest statuses in one call. GitHub marks
// earlier deployments of an environment inactive when a later one (of any
// model) succeeds there, which says nothing about this model's traffic: an
// inactive status counts only when nothing else is left.
func (r *reader) status(ctx context.Context, id int64) (deploymentState, error) {
	list, _, err := r.api.ListDeploymentStatuses(ctx, r.owner, r.name, id, &github.ListOptions{PerPage: statusPage})
	r.calls++
	if err != nil {
		return deploymentState{}, fmt.Errorf("list statuses of deployment %d: %w", id, explain(err, r.owner+"/"+r.name))
	}
	list = slices.DeleteFunc(slices.Clone(list), func(s *github.DeploymentStatus) bool { return s.GetState() == "inactive" })
	if len(list) == 0 {
		return deploymentState{}, nil
	}
	st := deploymentState{state: list[0].GetState()}
	for _, s := range list {
		if s.GetState() != "success" && s.GetState() != "in_progress" {
			break
		}
		st.since = s.GetCreatedAt().UTC()
	}
	return st, nil
}

// explain says what a refused request means for the user.
func explain(err error, repo string) error {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err
	}
	switch er.Response.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("GitHub refused the token (401 %s): check GITHUB_TOKEN: %w", er.Message, err)
	case http.StatusNotFound:
		return fmt.Errorf("repository %s not found, or the token may not read its deployments (404): %w", repo, err)
	case http.StatusForbidden:
		return fmt.Errorf("the token may not read the deployments of %s (403, it needs deployments: read): %w", repo, err)
	}
	return err
}

// NewGitHubClient returns a client of the REST API at apiURL (as
// GITHUB_API_URL has it: https://api.github.com, or https://HOST/api/v3 on
// GitHub Enterprise Server; github.com when empty) that authenticates with
// token.
func NewGitHubClient(token, apiURL string, hc *http.Client) (*github.Client, error) {
	c := github.NewClient(hc).WithAuthToken(token)
	if apiURL == "" {
		return c, nil
	}
	base, err := url.Parse(strings.TrimSuffix(apiURL, "/") + "/")
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("GitHub API URL %q: want an http(s) URL", apiURL)
	}
	c.BaseURL = base
	return c, nil
}
