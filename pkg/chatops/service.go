package chatops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/modelgate/modelgate/internal/failpoint"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/rolloutcomment"
	"github.com/modelgate/modelgate/pkg/store"
)

// CommentEvent is a comment on an issue or pull request, as the webhook said.
type CommentEvent struct {
	DeliveryID    string
	Action        string // created, edited, deleted
	Repo          gh.Repo
	Number        int
	IsPullRequest bool
	CommentID     int64
	Body          string
	Commenter     string
	CommenterType string // User, Bot, Organization
	// InstallationID is the App installation the webhook came through.
	InstallationID int64
	// CreatedAt is when the comment was written.
	CreatedAt time.Time
}

// Service runs the commands found in comments: parse, acknowledge,
// authorize, route, reply, and record every decision.
type Service struct {
	Store    Store
	Policy   PolicyAuthorizer // nil: no governance rules beyond write access
	Rollouts Rollouts
	// BotLogin is the App's own login ("modelgate[bot]"), never obeyed.
	BotLogin string
	// WebURL is GitHub's web address, for links ("" is https://github.com).
	WebURL string
	// Calls, if set, tells how many GitHub requests ctx has made so far.
	Calls  func(ctx context.Context) int
	Logger *slog.Logger
	Now    func() time.Time
}

// Reactions the bot leaves on a command comment.
const (
	ReactionSeen = "eyes"
)

// run is one command in progress.
type run struct {
	ev     CommentEvent
	gh     GitHub
	cmd    Command
	record store.Command
	// again says the command was recorded by an earlier attempt, which
	// may have replied already.
	again bool
	log   *slog.Logger
}

// HandleComment handles one comment event. It returns an error only for
// failures worth retrying (GitHub or the store unreachable); everything the
// commenter did wrong is answered in a reply.
func (s *Service) HandleComment(ctx context.Context, client GitHub, ev CommentEvent) error {
	log := s.logger().With("delivery", ev.DeliveryID, "repo", ev.Repo.FullName(), "pr", ev.Number, "commenter", ev.Commenter)
	if why := s.ignore(ev); why != "" {
		log.Debug("comment ignored", "reason", why)
		return nil
	}
	cmd, perr := Parse(ev.Body)
	if errors.Is(perr, ErrNotCommand) {
		return nil
	}
	r := &run{ev: ev, gh: client, cmd: cmd, log: log.With("command", cmd.Name)}
	rec, created, err := s.Store.RecordCommand(ctx, store.Command{
		DeliveryID: ev.DeliveryID, Repo: ev.Repo.FullName(), PR: ev.Number, CommentID: ev.CommentID,
		Commenter: ev.Commenter, Name: cmd.Name, Args: cmd.Line, State: store.CommandReceived,
	})
	if err != nil {
		return err
	}
	if !created && rec.State != store.CommandReceived {
		r.log.Info("command already handled", "state", rec.State)
		return nil
	}
	r.record, r.again = rec, !created
	if err := client.AddReaction(ctx, ev.Repo, ev.CommentID, ReactionSeen); err != nil && !errors.Is(err, gh.ErrNotFound) {
		return fmt.Errorf("react to comment %d: %w", ev.CommentID, err)
	}
	out, err := s.execute(ctx, r, perr)
	if err != nil {
		return err
	}
	return s.finish(ctx, r, out)
}

// Relevant reports whether a comment event may hold a command for the bot;
// callers skip the rest (and any GitHub client) when it does not.
func (s *Service) Relevant(ev CommentEvent) bool {
	if s.ignore(ev) != "" {
		return false
	}
	_, err := Parse(ev.Body)
	return !errors.Is(err, ErrNotCommand)
}

// ignore says why a comment is not for us, or "".
func (s *Service) ignore(ev CommentEvent) string {
	switch {
	case ev.Action != "created":
		return "comment " + ev.Action
	case ev.CommenterType == "Bot" || strings.HasSuffix(ev.Commenter, "[bot]"):
		return "comment by a bot"
	case s.BotLogin != "" && strings.EqualFold(ev.Commenter, s.BotLogin):
		return "comment by modelgate itself"
	}
	return ""
}

// execute decides and carries out the command.
func (s *Service) execute(ctx context.Context, r *run, parseErr error) (Outcome, error) {
	if !r.ev.IsPullRequest {
		return refuse("modelgate commands work on pull requests; #%d is an issue.", r.ev.Number), nil
	}
	if parseErr != nil {
		return refuse("%s\n\n%s", markdown.Text(parseErr.Error()), "Type `/help` for the commands."), nil
	}
	perm, err := r.gh.Permission(ctx, r.ev.Repo, r.ev.Commenter)
	if errors.Is(err, gh.ErrNotFound) {
		perm, err = "none", nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("permission of %s: %w", r.ev.Commenter, err)
	}
	if !atLeastWrite(perm) {
		return refuse("@%s needs write access to %s to run `/%s` (has: %s).",
			r.ev.Commenter, r.ev.Repo.FullName(), r.cmd.Name, perm), nil
	}
	switch r.cmd.Name {
	case Help:
		return Outcome{Reply: helpText}, nil
	case Status:
		return s.status(ctx, r)
	}
	return s.rollout(ctx, r, perm)
}

func atLeastWrite(perm string) bool {
	switch perm {
	case "admin", "maintain", "write":
		return true
	}
	return false
}

func refuse(format string, args ...any) Outcome {
	msg := fmt.Sprintf(format, args...)
	return Outcome{Refused: true, Reply: msg, Reason: msg}
}

// finish replies, and records the outcome in the audit log, then in the
// command row: a process killed between the two leaves the command
// received, and the retry finds the entry instead of writing it twice
// (in the other order the command read as done without its entry).
func (s *Service) finish(ctx context.Context, r *run, out Outcome) error {
	state := store.CommandDone
	if out.Refused {
		state = store.CommandRefused
	}
	if err := s.reply(ctx, r, out); err != nil {
		return err
	}
	failpoint.Hit(failpoint.CommandReplied, r.ev.DeliveryID)
	calls := 0
	if s.Calls != nil {
		calls = s.Calls(ctx)
	}
	reason := out.Reason
	if reason == "" {
		reason = firstLine(out.Reply)
	}
	if err := s.audit(ctx, r, store.AuditEntry{
		At: s.now(), Actor: r.ev.Commenter, Action: store.CommandAction(r.cmd.Name), Repo: r.ev.Repo.FullName(),
		PR: r.ev.Number, Model: strings.Join(r.cmd.Models, ","), Environment: r.cmd.Environment,
		Decision: state, Reason: reason, DeliveryID: r.ev.DeliveryID, Details: detailsJSON(r.cmd),
	}); err != nil {
		return err
	}
	if err := s.Store.UpdateCommand(ctx, r.record.ID, state, reason, calls); err != nil {
		return err
	}
	r.log.Info("command "+state, "reason", reason, "api_calls", calls)
	return nil
}

// audit appends the command's entry once: an attempt after one that may
// have written it looks for it first.
func (s *Service) audit(ctx context.Context, r *run, e store.AuditEntry) error {
	if r.again {
		entries, err := s.Store.ListAudit(ctx, store.AuditFilter{Repo: e.Repo, PR: e.PR, DeliveryID: e.DeliveryID})
		if err != nil {
			return fmt.Errorf("look for the command's audit entry: %w", err)
		}
		for _, old := range entries {
			if old.Action == e.Action {
				r.log.Info("audit entry already written", "entry", old.ID)
				return nil
			}
		}
	}
	if _, err := s.Store.AppendAudit(ctx, e); err != nil {
		return err
	}
	return nil
}

// reply answers the command once: an attempt after one that may have
// replied (its answer lost, or the process killed after it) looks for
// the reply's marker first.
func (s *Service) reply(ctx context.Context, r *run, out Outcome) error {
	marker := rolloutcomment.ReplyMarker(r.record.ID)
	if r.again {
		found, err := r.gh.FindComment(ctx, r.ev.Repo, r.ev.Number, marker)
		if err != nil && !errors.Is(err, gh.ErrNotFound) {
			return fmt.Errorf("look for the reply: %w", err)
		}
		if found != 0 {
			r.log.Info("already replied", "comment", found)
			return nil
		}
	}
	reply := fmt.Sprintf("> %s\n\n%s\n\n%s", markdown.Text(r.cmd.Line), out.Reply, marker)
	if _, err := r.gh.PostComment(ctx, r.ev.Repo, r.ev.Number, reply); errors.Is(err, gh.ErrNotFound) {
		r.log.Warn("reply impossible: the pull request is gone", "err", err)
	} else if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	return nil
}

func detailsJSON(c Command) []byte {
	b, _ := json.Marshal(map[string]any{"line": c.Line, "dry_run": c.DryRun, "reason": c.Reason})
	return b
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
