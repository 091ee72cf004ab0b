package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/rollout"
)

var _ canary.GitHub = RepoClient{}

// CreateDeployment creates a deployment with the contract's payload. It
// keeps GitHub's default required contexts: every commit status of the
// ref must be green, a guard the engine should not switch off.
func (c RepoClient) CreateDeployment(ctx context.Context, repo chatops.Repo, d canary.Deployment) (int64, error) {
	req := &github.DeploymentRequest{
		Ref: &d.Ref, Task: &d.Task, Environment: &d.Environment, Description: &d.Description,
		AutoMerge: github.Bool(false), Payload: d.Payload,
	}
	dep, _, err := c.Client.Repositories.CreateDeployment(ctx, repo.Owner, repo.Name, req)
	if err != nil {
		return 0, engineErr(err)
	}
	return dep.GetID(), nil
}

// FindDeployment looks for the deployment of a rollout's stage among the
// ref's deployments of that environment and task.
func (c RepoClient) FindDeployment(ctx context.Context, repo chatops.Repo, d canary.Deployment) (int64, error) {
	opts := &github.DeploymentsListOptions{SHA: d.Ref, Task: d.Task, Environment: d.Environment, ListOptions: github.ListOptions{PerPage: 100}}
	var found int64
	err := eachPage(&opts.ListOptions, func() (*github.Response, bool, error) {
		deps, resp, err := c.Client.Repositories.ListDeployments(ctx, repo.Owner, repo.Name, opts)
		for _, dep := range deps {
			if p, ok := rollout.ReadPayload(dep.Payload); ok && p.RolloutID == d.Payload.RolloutID && p.Stage == d.Payload.Stage {
				found = dep.GetID()
				return resp, true, nil
			}
		}
		return resp, false, err
	})
	return found, engineErr(err)
}

// CreateDeploymentStatus reports the bot's verdict on a deployment.
func (c RepoClient) CreateDeploymentStatus(ctx context.Context, repo chatops.Repo, id int64, state, description string) error {
	_, _, err := c.Client.Repositories.CreateDeploymentStatus(ctx, repo.Owner, repo.Name, id,
		&github.DeploymentStatusRequest{State: &state, Description: &description})
	return engineErr(err)
}

// PostComment comments on a pull request and returns the comment's id.
func (c RepoClient) PostComment(ctx context.Context, repo chatops.Repo, number int, body string) (int64, error) {
	cm, _, err := c.Client.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &github.IssueComment{Body: &body})
	if err != nil {
		return 0, engineErr(err)
	}
	return cm.GetID(), nil
}

// EditComment replaces a comment's body.
func (c RepoClient) EditComment(ctx context.Context, repo chatops.Repo, id int64, body string) error {
	_, _, err := c.Client.Issues.EditComment(ctx, repo.Owner, repo.Name, id, &github.IssueComment{Body: &body})
	return engineErr(err)
}

// FindComment returns the first comment on the pull request containing
// marker, or 0.
func (c RepoClient) FindComment(ctx context.Context, repo chatops.Repo, number int, marker string) (int64, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var found int64
	err := eachPage(&opts.ListOptions, func() (*github.Response, bool, error) {
		comments, resp, err := c.Client.Issues.ListComments(ctx, repo.Owner, repo.Name, number, opts)
		for _, cm := range comments {
			if strings.Contains(cm.GetBody(), marker) {
				found = cm.GetID()
				return resp, true, nil
			}
		}
		return resp, false, err
	})
	return found, engineErr(err)
}

// CheckRuns lists the check runs of a commit.
func (c RepoClient) CheckRuns(ctx context.Context, repo chatops.Repo, ref string) ([]canary.CheckRun, error) {
	var out []canary.CheckRun
	opts := &github.ListCheckRunsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	err := eachPage(&opts.ListOptions, func() (*github.Response, bool, error) {
		res, resp, err := c.Client.Checks.ListCheckRunsForRef(ctx, repo.Owner, repo.Name, ref, opts)
		if err != nil {
			return resp, false, err
		}
		for _, r := range res.CheckRuns {
			out = append(out, canary.CheckRun{Name: r.GetName(), Status: r.GetStatus(), Conclusion: r.GetConclusion()})
		}
		return resp, false, nil
	})
	if err != nil {
		return nil, engineErr(err)
	}
	return out, nil
}

// engineErr maps GitHub's answers onto the engine's errors: 404 is
// chatops.ErrNotFound; 400, 409, 410 and 422 are canary.ErrRejected,
// which retrying will not mend; anything else is worth retrying.
func engineErr(err error) error {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err
	}
	switch er.Response.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", chatops.ErrNotFound, err)
	case http.StatusBadRequest, http.StatusConflict, http.StatusGone, http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: %w", canary.ErrRejected, err)
	}
	return err
}

// EngineClients gives the engine an installation's client.
type EngineClients struct {
	Clients Clients
}

// ForInstallation returns the installation's client.
func (c EngineClients) ForInstallation(id int64) (canary.GitHub, error) {
	cl, err := c.Clients.Installation(id)
	if err != nil {
		return nil, err
	}
	return RepoClient{Client: cl}, nil
}
