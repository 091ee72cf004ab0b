package chatops

import (
	"context"
	"time"

	"github.com/modelgate/modelgate/pkg/config"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/store"
)

// GitHub is the part of GitHub's API a command uses while it is handled,
// here and by the Rollouts it is routed to, for one installation: one
// client serves the whole command. Implementations (gh.Client) map a 404
// to gh.ErrNotFound.
type GitHub interface {
	AddReaction(ctx context.Context, repo gh.Repo, commentID int64, content string) error
	PostComment(ctx context.Context, repo gh.Repo, number int, body string) (int64, error)
	// FindComment returns the first comment on number that contains
	// marker, or 0.
	FindComment(ctx context.Context, repo gh.Repo, number int, marker string) (int64, error)
	// Permission returns admin, maintain, write, triage, read or none.
	Permission(ctx context.Context, repo gh.Repo, login string) (string, error)
	PullRequest(ctx context.Context, repo gh.Repo, number int) (gh.PullRequest, error)
	// Approvers returns who approved in their latest review.
	Approvers(ctx context.Context, repo gh.Repo, number int) ([]string, error)
	ChangedFiles(ctx context.Context, repo gh.Repo, number int) ([]gh.ChangedFile, error)
	// FileAt reads a file at a commit; ref "" is the default branch.
	FileAt(ctx context.Context, repo gh.Repo, path, ref string) ([]byte, error)
	CheckRuns(ctx context.Context, repo gh.Repo, ref string) ([]gh.CheckRun, error)
}

var _ GitHub = (*gh.Client)(nil)

// PolicyAuthorizer evaluates the governance authorization rules (package
// modelgate.authz); reasons, when there are any, refuse the command.
type PolicyAuthorizer interface {
	Authorize(ctx context.Context, input map[string]any) (reasons []string, err error)
}

// Store is the durable state the commands read and write.
type Store interface {
	RecordCommand(ctx context.Context, c store.Command) (store.Command, bool, error)
	UpdateCommand(ctx context.Context, id int64, state, outcome string, apiCalls int) error
	ListCommands(ctx context.Context, repo string, pr int, limit int) ([]store.Command, error)
	ListRollouts(ctx context.Context, f store.RolloutFilter) ([]store.Rollout, error)
	ListStages(ctx context.Context, rolloutID int64) ([]store.Stage, error)
	ListLocks(ctx context.Context, repo string) ([]store.Lock, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Target is a model a rollout command acts on, as its manifest at the pull
// request's head declares it.
type Target struct {
	Model       string
	Version     string
	Environment string
	Path        string
	Manifest    map[string]any
}

// Rollout is the manifest's spec.rollout, the model's own rollout plan,
// or nil.
func (t Target) Rollout() map[string]any {
	plan, _ := dig(t.Manifest, "spec", "rollout").(map[string]any)
	return plan
}

// Request is an authorized rollout command handed to Rollouts.
type Request struct {
	Command     Command
	Repo        gh.Repo
	PullRequest gh.PullRequest
	Commenter   string
	DeliveryID  string
	CommentID   int64
	Targets     []Target // the models named, or the one the PR changes
	GitHub      GitHub
	// CommentedAt is when the command was written: the rollout deploys the
	// head the pull request had then.
	CommentedAt time.Time
	// PolicyReasons are the governance policies' refusals of a dry run,
	// which is carried out anyway to report them.
	PolicyReasons []string
	// Approvers are who approved the pull request in their latest review.
	Approvers []string
	// InstallationID is the App installation the command came through;
	// work that outlives the webhook uses it.
	InstallationID int64
	// Config is the default branch's .github/modelgate.yml (nil: none),
	// read for the commands that act on the models the PR changes;
	// ConfigErr says why it could not be read, if it could not.
	Config    *config.Config
	ConfigErr error
}

// RepoConfig is the repository's configuration, empty when there is none.
func (r Request) RepoConfig() *config.Config {
	if r.Config == nil {
		return &config.Config{}
	}
	return r.Config
}

// Outcome is what a handler has to say about a command.
type Outcome struct {
	Reply   string // Markdown for the PR comment
	Refused bool   // the command was not carried out (locked, conflicting rollout, ...)
	Reason  string // for the audit log
}

// Rollouts carries out authorized rollout commands; the canary engine
// implements it.
type Rollouts interface {
	Canary(ctx context.Context, r Request) (Outcome, error)
	Promote(ctx context.Context, r Request) (Outcome, error)
	Rollback(ctx context.Context, r Request) (Outcome, error)
	Abort(ctx context.Context, r Request) (Outcome, error)
	Pause(ctx context.Context, r Request) (Outcome, error)
	Resume(ctx context.Context, r Request) (Outcome, error)
	Lock(ctx context.Context, r Request) (Outcome, error)
	Unlock(ctx context.Context, r Request) (Outcome, error)
}
