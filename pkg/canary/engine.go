// Package canary runs canary rollouts: it turns ChatOps commands,
// deployment statuses and scheduled analyses into transitions of the
// rollout state machine, stores each transition before it acts, and then
// carries out what the transition asks for on GitHub, once.
package canary

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/store"
)

// Store is the durable state the engine reads and writes.
type Store interface {
	CreateRollout(ctx context.Context, r store.Rollout) (store.Rollout, error)
	UpdateRollout(ctx context.Context, r store.Rollout) (store.Rollout, error)
	GetRollout(ctx context.Context, id int64) (store.Rollout, error)
	ListRollouts(ctx context.Context, f store.RolloutFilter) ([]store.Rollout, error)
	PutStage(ctx context.Context, s store.Stage) error
	ListStages(ctx context.Context, rolloutID int64) ([]store.Stage, error)
	ScheduleJob(ctx context.Context, j store.Job) (int64, error)
	ClaimDueJobs(ctx context.Context, worker string, now time.Time, limit int, lease time.Duration) ([]store.Job, error)
	CompleteJob(ctx context.Context, worker string, id int64, err error) error
	CancelJobs(ctx context.Context, kind, key string) (int, error)
	LockEnvironment(ctx context.Context, l store.Lock) (store.Lock, error)
	UnlockEnvironment(ctx context.Context, repo, environment string) error
	ListLocks(ctx context.Context, repo string) ([]store.Lock, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// GitHub is the part of GitHub's API the effects use, for one
// installation: deployments, their statuses and the bot's own comments.
// Implementations (gh.Client) map a 404 to gh.ErrNotFound and wrap other
// 4xx answers, which retrying will not mend, in gh.ErrRejected.
type GitHub interface {
	CreateDeployment(ctx context.Context, repo gh.Repo, d gh.Deployment) (int64, error)
	// FindDeployment returns the deployment of d's ref, environment and
	// task whose payload names d's rollout and stage, or 0.
	FindDeployment(ctx context.Context, repo gh.Repo, d gh.Deployment) (int64, error)
	CreateDeploymentStatus(ctx context.Context, repo gh.Repo, id int64, state, description string) error
	PostComment(ctx context.Context, repo gh.Repo, number int, body string) (int64, error)
	EditComment(ctx context.Context, repo gh.Repo, commentID int64, body string) error
	// FindComment returns the first comment on number that contains
	// marker, or 0.
	FindComment(ctx context.Context, repo gh.Repo, number int, marker string) (int64, error)
}

var _ GitHub = (*gh.Client)(nil)

// Commands is the part of GitHub's API the commands use, through the
// client of the command's own request (chatops.Request.GitHub).
type Commands interface {
	PullRequest(ctx context.Context, repo gh.Repo, number int) (gh.PullRequest, error)
	CheckRuns(ctx context.Context, repo gh.Repo, ref string) ([]gh.CheckRun, error)
}

// Clients gives the GitHub client of an installation, for work that runs
// after the webhook that started it.
type Clients interface {
	ForInstallation(installationID int64) (GitHub, error)
}

// ClientsFunc is a function that serves as Clients.
type ClientsFunc func(installationID int64) (GitHub, error)

// ForInstallation calls f.
func (f ClientsFunc) ForInstallation(installationID int64) (GitHub, error) { return f(installationID) }

// Providers finds the metrics provider a plan names.
type Providers interface {
	Lookup(name string) (metrics.Provider, error)
}

// Engine drives rollouts. Its zero value is not usable: set Store,
// Clients, Providers and Judge.
type Engine struct {
	Store     Store
	Clients   Clients
	Providers Providers
	Judge     *judge.Judge
	// BotLogin is the App's login: deployment statuses it sets itself are
	// not the deploy workflow's answer.
	BotLogin string
	// WebURL is GitHub's web address for links (https://github.com).
	WebURL string
	// ChecksPattern names the check runs that must have passed on the
	// head commit before /canary (case-insensitive substring); "" means
	// DefaultChecksPattern, "-" none.
	ChecksPattern string
	// Poll is how often the scheduler looks for due work (1 s by default).
	Poll time.Duration
	// Lease is how long a worker holds a job (2 min by default).
	Lease time.Duration
	// Worker names this process among the replicas.
	Worker string
	Logger *slog.Logger
	// Now is the clock; tests move it.
	Now func() time.Time

	once sync.Once
	wake chan struct{}
}

// DefaultChecksPattern matches the check run of the modelgate action.
const DefaultChecksPattern = "modelgate"

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

func (e *Engine) webURL() string {
	if e.WebURL == "" {
		return "https://github.com"
	}
	return e.WebURL
}
