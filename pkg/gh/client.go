package gh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/modelgate/modelgate/pkg/rollout"
)

// Client makes the bot's calls for one installation with go-github. Every
// error it returns went through mapErr.
type Client struct {
	GitHub *github.Client
}

// AddReaction reacts to an issue or pull-request comment.
func (c *Client) AddReaction(ctx context.Context, repo Repo, commentID int64, content string) error {
	_, _, err := c.GitHub.Reactions.CreateIssueCommentReaction(ctx, repo.Owner, repo.Name, commentID, content)
	return mapErr(err)
}

// PostComment comments on an issue or pull request and returns the
// comment's id.
func (c *Client) PostComment(ctx context.Context, repo Repo, number int, body string) (int64, error) {
	cm, _, err := c.GitHub.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &github.IssueComment{Body: &body})
	if err != nil {
		return 0, mapErr(err)
	}
	return cm.GetID(), nil
}

// EditComment replaces a comment's body.
func (c *Client) EditComment(ctx context.Context, repo Repo, id int64, body string) error {
	_, _, err := c.GitHub.Issues.EditComment(ctx, repo.Owner, repo.Name, id, &github.IssueComment{Body: &body})
	return mapErr(err)
}

// FindComment returns the first comment on the pull request containing
// marker, or 0.
func (c *Client) FindComment(ctx context.Context, repo Repo, number int, marker string) (int64, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var found int64
	err := eachPage(&opts.ListOptions, func() (*github.Response, bool, error) {
		comments, resp, err := c.GitHub.Issues.ListComments(ctx, repo.Owner, repo.Name, number, opts)
		for _, cm := range comments {
			if strings.Contains(cm.GetBody(), marker) {
				found = cm.GetID()
				return resp, true, nil
			}
		}
		return resp, false, err
	})
	return found, mapErr(err)
}

// Permission returns the user's permission on the repository: admin,
// maintain, write, triage, read or none.
func (c *Client) Permission(ctx context.Context, repo Repo, login string) (string, error) {
	p, _, err := c.GitHub.Repositories.GetPermissionLevel(ctx, repo.Owner, repo.Name, login)
	if err != nil {
		return "", mapErr(err)
	}
	if p.GetUser().GetRoleName() == "maintain" {
		return "maintain", nil
	}
	return p.GetPermission(), nil
}

// PullRequest reads a pull request.
func (c *Client) PullRequest(ctx context.Context, repo Repo, number int) (PullRequest, error) {
	pr, _, err := c.GitHub.PullRequests.Get(ctx, repo.Owner, repo.Name, number)
	if err != nil {
		return PullRequest{}, mapErr(err)
	}
	labels := make([]string, 0, len(pr.Labels))
	for _, l := range pr.Labels {
		labels = append(labels, l.GetName())
	}
	return PullRequest{
		Number: pr.GetNumber(), Author: pr.GetUser().GetLogin(), Labels: labels, Draft: pr.GetDraft(),
		State: pr.GetState(), Merged: pr.GetMerged(), HeadSHA: pr.GetHead().GetSHA(),
		HeadRepo: pr.GetHead().GetRepo().GetFullName(),
	}, nil
}

// Approvers returns who approved in their latest deciding review.
func (c *Client) Approvers(ctx context.Context, repo Repo, number int) ([]string, error) {
	latest := map[string]string{}
	var order []string
	opts := &github.ListOptions{PerPage: 100}
	err := eachPage(opts, func() (*github.Response, bool, error) {
		reviews, resp, err := c.GitHub.PullRequests.ListReviews(ctx, repo.Owner, repo.Name, number, opts)
		for _, r := range reviews {
			login, state := r.GetUser().GetLogin(), r.GetState()
			if state == "COMMENTED" || state == "PENDING" {
				continue // these do not change a reviewer's verdict
			}
			if _, seen := latest[login]; !seen {
				order = append(order, login)
			}
			latest[login] = state
		}
		return resp, false, err
	})
	if err != nil {
		return nil, mapErr(err)
	}
	var out []string
	for _, login := range order {
		if latest[login] == "APPROVED" {
			out = append(out, login)
		}
	}
	return out, nil
}

// ChangedFiles lists the files a pull request changes.
func (c *Client) ChangedFiles(ctx context.Context, repo Repo, number int) ([]ChangedFile, error) {
	var out []ChangedFile
	opts := &github.ListOptions{PerPage: 100}
	err := eachPage(opts, func() (*github.Response, bool, error) {
		files, resp, err := c.GitHub.PullRequests.ListFiles(ctx, repo.Owner, repo.Name, number, opts)
		for _, f := range files {
			out = append(out, ChangedFile{Path: f.GetFilename(), Status: f.GetStatus()})
		}
		return resp, false, err
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// FileAt reads a file at a commit; ref "" is the default branch.
func (c *Client) FileAt(ctx context.Context, repo Repo, path, ref string) ([]byte, error) {
	f, _, _, err := c.GitHub.Repositories.GetContents(ctx, repo.Owner, repo.Name, path, &github.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		return nil, mapErr(err)
	}
	if f == nil {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	s, err := f.GetContent()
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return []byte(s), nil
}

// CheckRuns lists the check runs of a commit.
func (c *Client) CheckRuns(ctx context.Context, repo Repo, ref string) ([]CheckRun, error) {
	var out []CheckRun
	opts := &github.ListCheckRunsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	err := eachPage(&opts.ListOptions, func() (*github.Response, bool, error) {
		res, resp, err := c.GitHub.Checks.ListCheckRunsForRef(ctx, repo.Owner, repo.Name, ref, opts)
		if err != nil {
			return resp, false, err
		}
		for _, r := range res.CheckRuns {
			out = append(out, CheckRun{Name: r.GetName(), Status: r.GetStatus(), Conclusion: r.GetConclusion()})
		}
		return resp, false, nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// CreateDeployment creates a deployment with the contract's payload. It
// keeps GitHub's default required contexts: every commit status of the
// ref must be green, a guard the bot should not switch off.
func (c *Client) CreateDeployment(ctx context.Context, repo Repo, d Deployment) (int64, error) {
	req := &github.DeploymentRequest{
		Ref: &d.Ref, Task: &d.Task, Environment: &d.Environment, Description: &d.Description,
		AutoMerge: github.Bool(false), Payload: d.Payload,
	}
	dep, _, err := c.GitHub.Repositories.CreateDeployment(ctx, repo.Owner, repo.Name, req)
	if err != nil {
		return 0, mapErr(err)
	}
	return dep.GetID(), nil
}

// FindDeployment looks for the deployment of d's rollout and stage among
// the ref's deployments of d's environment and task; 0 when there is none.
func (c *Client) FindDeployment(ctx context.Context, repo Repo, d Deployment) (int64, error) {
	opts := &github.DeploymentsListOptions{SHA: d.Ref, Task: d.Task, Environment: d.Environment, ListOptions: github.ListOptions{PerPage: 100}}
	var found int64
	err := eachPage(&opts.ListOptions, func() (*github.Response, bool, error) {
		deps, resp, err := c.GitHub.Repositories.ListDeployments(ctx, repo.Owner, repo.Name, opts)
		for _, dep := range deps {
			if p, ok := rollout.ReadPayload(dep.Payload); ok && p.RolloutID == d.Payload.RolloutID && p.Stage == d.Payload.Stage {
				found = dep.GetID()
				return resp, true, nil
			}
		}
		return resp, false, err
	})
	return found, mapErr(err)
}

// CreateDeploymentStatus reports the bot's verdict on a deployment.
func (c *Client) CreateDeploymentStatus(ctx context.Context, repo Repo, id int64, state, description string) error {
	_, _, err := c.GitHub.Repositories.CreateDeploymentStatus(ctx, repo.Owner, repo.Name, id,
		&github.DeploymentStatusRequest{State: &state, Description: &description})
	return mapErr(err)
}

// mapErr maps GitHub's answers onto the package's errors, keeping the
// original: 404 is ErrNotFound; 400, 409, 410 and 422 are ErrRejected;
// anything else (5xx, rate limits, the network) is worth retrying.
func mapErr(err error) error {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err
	}
	switch er.Response.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case http.StatusBadRequest, http.StatusConflict, http.StatusGone, http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}

// maxPages bounds list calls: 30 pages of 100 is GitHub's own cap on a
// pull request's files.
const maxPages = 30

// eachPage calls fetch for the first page of a list and for each next one,
// up to maxPages, until fetch says it is done or GitHub has no next page.
func eachPage(opts *github.ListOptions, fetch func() (resp *github.Response, done bool, err error)) error {
	for range maxPages {
		resp, done, err := fetch()
		if err != nil || done || resp.NextPage == 0 {
			return err
		}
		opts.Page = resp.NextPage
	}
	return nil
}
