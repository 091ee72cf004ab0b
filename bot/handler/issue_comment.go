package handler

import (
	"context"
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/githubapp"
	"github.com/valyala/fastjson"
)

// Installations gives the GitHub client of an installation (gh.Installations).
type Installations interface {
	ForInstallation(installationID int64) (*gh.Client, error)
}

// CommentService runs the commands in comments.
type CommentService interface {
	Relevant(ev chatops.CommentEvent) bool
	HandleComment(ctx context.Context, gh chatops.GitHub, ev chatops.CommentEvent) error
}

// IssueComment handles issue_comment events: ChatOps commands.
type IssueComment struct {
	Clients  Installations
	Commands CommentService
	parsers  fastjson.ParserPool
}

// Handles names the events.
func (h *IssueComment) Handles() []string { return []string{"issue_comment"} }

// Handle runs the comment's command, counting the GitHub calls it makes.
// It reads the few fields it needs with fastjson: several times cheaper
// than decoding go-github's whole event, on every comment of every PR.
func (h *IssueComment) Handle(ctx context.Context, e githubapp.Event) error {
	if !mayHoldCommand(e.Payload) {
		return nil // discussion, the common case: not even parsed
	}
	parser := h.parsers.Get()
	defer h.parsers.Put(parser)
	p, err := parser.ParseBytes(e.Payload)
	if err != nil {
		return githubapp.Permanent(fmt.Errorf("decode issue_comment payload: %w", err))
	}
	if p.Get("repository") == nil || p.Get("issue") == nil || p.Get("comment") == nil {
		return githubapp.Permanent(fmt.Errorf("issue_comment payload lacks repository, issue or comment"))
	}
	pr := p.Get("issue", "pull_request")
	ev := chatops.CommentEvent{
		DeliveryID:     e.DeliveryID,
		Action:         string(p.GetStringBytes("action")),
		Repo:           gh.Repo{Owner: string(p.GetStringBytes("repository", "owner", "login")), Name: string(p.GetStringBytes("repository", "name"))},
		Number:         p.GetInt("issue", "number"),
		IsPullRequest:  pr != nil && pr.Type() == fastjson.TypeObject,
		CommentID:      p.GetInt64("comment", "id"),
		Body:           string(p.GetStringBytes("comment", "body")),
		Commenter:      string(p.GetStringBytes("comment", "user", "login")),
		CommenterType:  string(p.GetStringBytes("comment", "user", "type")),
		InstallationID: p.GetInt64("installation", "id"),
	}
	if ev.Repo.Owner == "" || ev.Repo.Name == "" || ev.Number <= 0 || ev.CommentID <= 0 || ev.Commenter == "" {
		return githubapp.Permanent(fmt.Errorf("issue_comment payload lacks the repository's owner or name, the issue's number, " +
			"or the comment's id or user"))
	}
	if at, err := time.Parse(time.RFC3339, string(p.GetStringBytes("comment", "created_at"))); err == nil {
		ev.CreatedAt = at
	}
	if !h.Commands.Relevant(ev) {
		return nil // edited, deleted, by a bot, or no command: no client needed
	}
	client, err := h.Clients.ForInstallation(ev.InstallationID)
	if err != nil {
		return githubapp.Permanent(err)
	}
	ctx, _ = githubapp.WithCallCounter(ctx)
	return h.Commands.HandleComment(ctx, client, ev)
}
