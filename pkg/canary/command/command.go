// Package command carries out the ChatOps commands that change rollouts
// and locks (chatops.Rollouts): /canary with its gates and its dry run,
// /promote, /rollback, /abort, /pause, /resume, /lock and /unlock, each
// answered with a Markdown reply.
package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// DefaultChecksPattern matches the check run of the modelgate action.
const DefaultChecksPattern = "modelgate"

// GitHub is what the commands read of GitHub, through the client of the
// command's own request (chatops.Request.GitHub).
type GitHub interface {
	PullRequest(ctx context.Context, repo gh.Repo, number int) (gh.PullRequest, error)
	CheckRuns(ctx context.Context, repo gh.Repo, ref string) ([]gh.CheckRun, error)
}

// Store is the durable state the commands read and write besides the
// records of the rollouts they change.
type Store interface {
	ListRollouts(ctx context.Context, f store.RolloutFilter) ([]store.Rollout, error)
	ListLocks(ctx context.Context, repo string) ([]store.Lock, error)
	LockEnvironment(ctx context.Context, l store.Lock) (store.Lock, error)
	UnlockEnvironment(ctx context.Context, repo, environment string) error
	canary.Pushes
}

// Records starts rollouts and moves them (canary.Transitions).
type Records interface {
	Start(ctx context.Context, l canary.Rollout) (store.Rollout, error)
	Apply(ctx context.Context, id int64, ev rollout.Event, actor string, mutate func(*canary.Rollout)) (canary.Rollout, error)
	Release(ctx context.Context, ro store.Rollout, reason, actor string) error
}

// Providers finds the metrics provider a plan names.
type Providers interface {
	Lookup(name string) (metrics.Provider, error)
}

// Commands carries out rollout commands. Its zero value is not usable:
// set Store, Records and Providers.
type Commands struct {
	Store     Store
	Records   Records
	Providers Providers
	// ChecksPattern names the check runs that must have passed on the
	// head commit before /canary (case-insensitive substring); "" means
	// DefaultChecksPattern, "-" none.
	ChecksPattern string
	Clock         canary.Clock
}

var _ chatops.Rollouts = (*Commands)(nil)

// reply gathers the outcome of a command over its models: it is refused
// when nothing was carried out.
type reply struct {
	lines   []string
	done    int
	reasons []string
}

func (r *reply) ok(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
	r.done++
}

func (r *reply) refuse(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.lines = append(r.lines, msg)
	r.reasons = append(r.reasons, msg)
}

func (r *reply) outcome() chatops.Outcome {
	text := strings.Join(r.lines, "\n\n")
	out := chatops.Outcome{Reply: text, Refused: r.done == 0}
	if out.Refused {
		out.Reason = strings.Join(r.reasons, "; ")
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
