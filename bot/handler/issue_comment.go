package handler

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/githubapp"
)

// Clients gives the GitHub client of an installation.
type Clients interface {
	Installation(installationID int64) (*github.Client, error)
}

// CommentService runs the commands in comments.
type CommentService interface {
	Relevant(ev chatops.CommentEvent) bool
	HandleComment(ctx context.Context, gh chatops.GitHub, ev chatops.CommentEvent) error
}

// IssueComment handles issue_comment events: ChatOps commands.
type IssueComment struct {
	Clients  Clients
	Commands CommentService
}

// Handles names the events.
func (h IssueComment) Handles() []string { return []string{"issue_comment"} }

// Handle runs the comment's command, counting the GitHub calls it makes.
func (h IssueComment) Handle(ctx context.Context, e githubapp.Event) error {
	var p github.IssueCommentEvent
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return githubapp.Permanent(fmt.Errorf("decode issue_comment payload: %w", err))
	}
	if p.Repo == nil || p.Issue == nil || p.Comment == nil {
		return githubapp.Permanent(fmt.Errorf("issue_comment payload lacks repository, issue or comment"))
	}
	ev := chatops.CommentEvent{
		DeliveryID:    e.DeliveryID,
		Action:        p.GetAction(),
		Repo:          chatops.Repo{Owner: p.Repo.GetOwner().GetLogin(), Name: p.Repo.GetName()},
		Number:        p.Issue.GetNumber(),
		IsPullRequest: p.Issue.IsPullRequest(),
		CommentID:     p.Comment.GetID(),
		Body:          p.Comment.GetBody(),
		Commenter:     p.Comment.GetUser().GetLogin(),
		CommenterType: p.Comment.GetUser().GetType(),
	}
	if !h.Commands.Relevant(ev) {
		return nil // edited, deleted, by a bot, or no command: no client needed
	}
	client, err := h.Clients.Installation(p.GetInstallation().GetID())
	if err != nil {
		return githubapp.Permanent(err)
	}
	ctx, _ = githubapp.WithCallCounter(ctx)
	return h.Commands.HandleComment(ctx, RepoClient{Client: client}, ev)
}
