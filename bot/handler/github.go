package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/chatops"
)

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

// RepoClient is chatops.GitHub over one installation's go-github client.
type RepoClient struct {
	Client *github.Client
}

var _ chatops.GitHub = RepoClient{}

// AddReaction reacts to an issue or pull-request comment.
func (c RepoClient) AddReaction(ctx context.Context, repo chatops.Repo, commentID int64, content string) error {
	_, _, err := c.Client.Reactions.CreateIssueCommentReaction(ctx, repo.Owner, repo.Name, commentID, content)
	return mapErr(err)
}

// CreateComment comments on an issue or pull request.
func (c RepoClient) CreateComment(ctx context.Context, repo chatops.Repo, number int, body string) error {
	_, _, err := c.Client.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &github.IssueComment{Body: &body})
	return mapErr(err)
}

// Permission returns the commenter's permission on the repository.
func (c RepoClient) Permission(ctx context.Context, repo chatops.Repo, login string) (string, error) {
	p, _, err := c.Client.Repositories.GetPermissionLevel(ctx, repo.Owner, repo.Name, login)
	if err != nil {
		return "", mapErr(err)
	}
	if p.GetUser().GetRoleName() == "maintain" {
		return "maintain", nil
	}
	return p.GetPermission(), nil
}

// PullRequest reads a pull request.
func (c RepoClient) PullRequest(ctx context.Context, repo chatops.Repo, number int) (chatops.PullRequest, error) {
	pr, _, err := c.Client.PullRequests.Get(ctx, repo.Owner, repo.Name, number)
	if err != nil {
		return chatops.PullRequest{}, mapErr(err)
	}
	labels := make([]string, 0, len(pr.Labels))
	for _, l := range pr.Labels {
		labels = append(labels, l.GetName())
	}
	return chatops.PullRequest{
		Number: pr.GetNumber(), Author: pr.GetUser().GetLogin(), Labels: labels, Draft: pr.GetDraft(),
		State: pr.GetState(), Merged: pr.GetMerged(), HeadSHA: pr.GetHead().GetSHA(),
		HeadRepo: pr.GetHead().GetRepo().GetFullName(),
	}, nil
}

// Approvers returns who approved in their latest deciding review.
func (c RepoClient) Approvers(ctx context.Context, repo chatops.Repo, number int) ([]string, error) {
	latest := map[string]string{}
	var order []string
	opts := &github.ListOptions{PerPage: 100}
	err := eachPage(opts, func() (*github.Response, bool, error) {
		reviews, resp, err := c.Client.PullRequests.ListReviews(ctx, repo.Owner, repo.Name, number, opts)
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
func (c RepoClient) ChangedFiles(ctx context.Context, repo chatops.Repo, number int) ([]chatops.ChangedFile, error) {
	var out []chatops.ChangedFile
	opts := &github.ListOptions{PerPage: 100}
	err := eachPage(opts, func() (*github.Response, bool, error) {
		files, resp, err := c.Client.PullRequests.ListFiles(ctx, repo.Owner, repo.Name, number, opts)
		for _, f := range files {
			out = append(out, chatops.ChangedFile{Path: f.GetFilename(), Status: f.GetStatus()})
		}
		return resp, false, err
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// FileAt reads a file at a commit.
func (c RepoClient) FileAt(ctx context.Context, repo chatops.Repo, path, ref string) ([]byte, error) {
	f, _, _, err := c.Client.Repositories.GetContents(ctx, repo.Owner, repo.Name, path, &github.RepositoryContentGetOptions{Ref: ref})
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

// mapErr turns GitHub's 404 into chatops.ErrNotFound, keeping the original.
func mapErr(err error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: %w", chatops.ErrNotFound, err)
	}
	return err
}
