// Package store keeps the bot's durable state: commands, rollouts and their
// stages, environment locks and the audit log, and, in the same database,
// the job queue (pkg/queue) that holds webhook deliveries and rollout jobs.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/queue"
)

// Errors callers compare with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrLocked   = errors.New("environment is locked")
	ErrConflict = errors.New("conflict")
)

// Store is the durable state behind the bot. SQLite implements it for one
// replica; PostgreSQL (claims with FOR UPDATE SKIP LOCKED) for several.
type Store interface {
	// Queue is the job queue in the store's database.
	Queue() *queue.Store
	Commands
	Rollouts
	Locks
	Audit
	Ping(ctx context.Context) error
	Close() error
}

// Command is one ChatOps command as the bot received it.
type Command struct {
	ID         int64
	DeliveryID string
	Repo       string // owner/name
	PR         int
	CommentID  int64
	Commenter  string
	Name       string // canary, promote, ...
	Args       string // the command line as written
	State      CommandState
	Outcome    string // the reply's gist
	APICalls   int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Commands records ChatOps commands.
type Commands interface {
	// RecordCommand stores a new command, or returns the one already stored
	// for the same delivery (redelivery) with created false.
	RecordCommand(ctx context.Context, c Command) (stored Command, created bool, err error)
	UpdateCommand(ctx context.Context, id int64, state, outcome string, apiCalls int) error
	ListCommands(ctx context.Context, repo string, pr int, limit int) ([]Command, error)
}

// Rollout is one model version moving through canary stages in an environment.
type Rollout struct {
	ID              int64
	Repo            string
	PR              int
	Model           string
	Version         string
	BaselineVersion string
	Environment     string
	HeadSHA         string
	State           RolloutState
	Stage           int // index into the plan's stages
	TrafficPercent  int
	Plan            []byte // the rollout plan as JSON
	StartedBy       string
	// InstallationID is the GitHub App installation background work on
	// this rollout authenticates as.
	InstallationID int64
	// Record is the rollout engine's own state as JSON; the store keeps it
	// as it is (up to a few hundred KiB).
	Record []byte
	// Revision counts the row's writes, 1 after CreateRollout: UpdateRollout
	// writes only over the revision the caller read.
	Revision  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RolloutState is a rollout's coarse state, as stored in Rollout.State:
// the engine's phases deploying, analyzing and waiting are all running.
// It is an alias, so that rows and filters read as the strings they hold.
type RolloutState = string

// Rollout states.
const (
	RolloutPending    RolloutState = "pending"
	RolloutRunning    RolloutState = "running"
	RolloutPaused     RolloutState = "paused"
	RolloutPromoted   RolloutState = "promoted"
	RolloutRolledBack RolloutState = "rolled_back"
	RolloutAborted    RolloutState = "aborted"
	RolloutFailed     RolloutState = "failed"
)

// Active reports whether the rollout still holds its model and environment.
func (r Rollout) Active() bool {
	switch r.State {
	case RolloutPending, RolloutRunning, RolloutPaused:
		return true
	}
	return false
}

// StageState is where one stage of a rollout is, as stored in Stage.State.
type StageState = string

// Stage states.
const (
	StageDeploying StageState = "deploying"
	StageAnalyzing StageState = "analyzing"
	StagePassed    StageState = "passed"
	StageFailed    StageState = "failed"
	StageSkipped   StageState = "skipped"
)

// stageAnalysing is how StageAnalyzing was spelled in rows written before
// the two spellings were made one; the store reads it as StageAnalyzing.
const stageAnalysing StageState = "analysing"

// canonicalStage reads a stored stage state, old spellings included.
func canonicalStage(s StageState) StageState {
	if s == stageAnalysing {
		return StageAnalyzing
	}
	return s
}

// Stage is one step of a rollout, backed by a GitHub Deployment.
type Stage struct {
	RolloutID      int64
	Index          int
	TrafficPercent int
	DeploymentID   int64
	State          StageState
	Verdict        []byte // the judge's decision as JSON
	StartedAt      time.Time
	FinishedAt     time.Time
}

// RolloutFilter selects rollouts; zero fields match all.
type RolloutFilter struct {
	Repo        string
	PR          int
	Model       string
	Environment string
	States      []RolloutState // any of these states; all when empty
	ActiveOnly  bool
	Limit       int // 100 when zero
}

// Rollouts records rollouts and their stages.
type Rollouts interface {
	// CreateRollout stores a rollout; ErrConflict when the model already has
	// an active rollout in that environment, ErrLocked when the environment
	// is locked. One statement decides both, so two replicas cannot start a
	// rollout in a locked environment between a check and an insert.
	// It returns the stored row, at Revision 1.
	CreateRollout(ctx context.Context, r Rollout) (Rollout, error)
	// UpdateRollout saves r's state, active flag, stage, traffic, baseline
	// version, head SHA, installation and record, provided the row is still
	// at r.Revision (the revision the caller read), and returns the stored
	// row at the next revision. ErrConflict when another write came first,
	// or when r would become a second active rollout of its model and
	// environment; ErrNotFound when there is no such rollout.
	UpdateRollout(ctx context.Context, r Rollout) (Rollout, error)
	GetRollout(ctx context.Context, id int64) (Rollout, error)
	// CountRollouts counts the rollouts in each state, for the metrics.
	CountRollouts(ctx context.Context) (map[RolloutState]int, error)
	// ListRollouts returns the rollouts f selects, newest (highest id) first.
	ListRollouts(ctx context.Context, f RolloutFilter) ([]Rollout, error)
	PutStage(ctx context.Context, s Stage) error
	ListStages(ctx context.Context, rolloutID int64) ([]Stage, error)
}

// Lock freezes an environment of a repository.
type Lock struct {
	Repo        string
	Environment string
	Reason      string
	LockedBy    string
	LockedAt    time.Time
}

// Locks records environment locks.
type Locks interface {
	// LockEnvironment takes the lock; ErrLocked, with the holder, when held.
	LockEnvironment(ctx context.Context, l Lock) (Lock, error)
	// UnlockEnvironment releases it; ErrNotFound when it was not locked.
	UnlockEnvironment(ctx context.Context, repo, environment string) error
	ListLocks(ctx context.Context, repo string) ([]Lock, error)
}

// AuditEntry is one decision: who asked what, when, and why it was decided so.
type AuditEntry struct {
	ID          int64
	At          time.Time
	Actor       string // a GitHub login, or "modelgate" for the bot's own decisions
	Action      AuditAction
	Repo        string
	PR          int
	Model       string
	Environment string
	Decision    Decision
	Reason      string
	DeliveryID  string
	RolloutID   int64  // the rollout the entry is about; 0 when none
	Details     []byte // JSON
}

// AuditAction names what an audit entry records.
type AuditAction = string

// Audit actions. A command's own is CommandAction(name).
const (
	ActionRolloutStarted    AuditAction = "rollout.started"
	ActionRolloutStage      AuditAction = "rollout.stage"
	ActionRolloutPaused     AuditAction = "rollout.paused"
	ActionRolloutResumed    AuditAction = "rollout.resumed"
	ActionRolloutPromoted   AuditAction = "rollout.promoted"
	ActionRolloutRolledBack AuditAction = "rollout.rolled_back"
	ActionRolloutAborted    AuditAction = "rollout.aborted"
	ActionRolloutFailed     AuditAction = "rollout.failed"
	// ActionRolloutLook records a judged look of a stage, with the `bot
	// judge` line that replays it from the counts it read in Details.
	ActionRolloutLook AuditAction = "rollout.look"
	// ActionRollbackDeployed is the deploy workflow's answer to a rollback.
	ActionRollbackDeployed AuditAction = "rollout.rollback_deployed"
	// ActionHeadMoved records a push to a pull request.
	ActionHeadMoved AuditAction = "pull_request.head_moved"
)

// CommandAction is the audit action of a ChatOps command: command.canary, ...
func CommandAction(name string) AuditAction { return "command." + name }

// Decision is what was decided of an audited action or a command.
type Decision = string

// Decisions.
const (
	DecisionAccepted Decision = "accepted"
	DecisionRefused  Decision = "refused"
	DecisionDone     Decision = "done"
	DecisionFailed   Decision = "failed"
)

// CommandState is where a ChatOps command is (Command.State).
type CommandState = string

// Command states.
const (
	CommandReceived CommandState = "received"
	CommandRefused  CommandState = "refused"
	CommandDone     CommandState = "done"
)

// AuditFilter selects audit entries; zero fields match all.
type AuditFilter struct {
	Repo        string
	PR          int
	Model       string
	Environment string
	RolloutID   int64
	DeliveryID  string
	Since       time.Time
	Limit       int // 1000 when zero
}

// Audit is the append-only decision log.
type Audit interface {
	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// activeConflict is UpdateRollout's error when r would be a second active
// rollout of its model and environment.
func activeConflict(r Rollout) error {
	return fmt.Errorf("update rollout %d: %s already has an active rollout in %s: %w", r.ID, r.Model, r.Environment, ErrConflict)
}

// staleRollout is UpdateRollout's error when no row has r's id and
// revision: found says whether the rollout exists, at revision current.
func staleRollout(r Rollout, current int64, found bool) error {
	if !found {
		return fmt.Errorf("update rollout %d: %w", r.ID, ErrNotFound)
	}
	return fmt.Errorf("update rollout %d: the rollout changed since it was read (read revision %d, now %d): %w",
		r.ID, r.Revision, current, ErrConflict)
}
