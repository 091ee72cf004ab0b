package handler

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/canary/event"
	"github.com/modelgate/modelgate/pkg/githubapp"
)

// PullRequests keeps rollouts tied to their pull request.
type PullRequests interface {
	HandlePullRequest(ctx context.Context, ev event.PullRequest) error
}

// PullRequest handles pull_request events: a close releases the pull
// request's rollouts, a push is recorded against commands written before it.
type PullRequest struct {
	Rollouts PullRequests
}

// Handles names the events.
func (h PullRequest) Handles() []string { return []string{"pull_request"} }

// Handle hands closes and pushes to the rollout engine.
func (h PullRequest) Handle(ctx context.Context, e githubapp.Event) error {
	p, err := decodePayload[github.PullRequestEvent]("pull_request", e.Payload)
	if err != nil {
		return err
	}
	if p.PullRequest == nil || p.Repo == nil || p.GetPullRequest().GetNumber() <= 0 {
		return githubapp.Permanent(fmt.Errorf("pull_request payload lacks pull_request or repository"))
	}
	repo, err := repoOf("pull_request", p.Repo)
	if err != nil {
		return err
	}
	switch p.GetAction() {
	case "closed", "synchronize":
	default:
		return nil
	}
	pr := p.GetPullRequest()
	return h.Rollouts.HandlePullRequest(ctx, event.PullRequest{
		Repo:   repo,
		Number: pr.GetNumber(), Action: p.GetAction(), Merged: pr.GetMerged(), HeadSHA: pr.GetHead().GetSHA(),
		At: pr.GetUpdatedAt().Time, Sender: p.GetSender().GetLogin(),
	})
}
