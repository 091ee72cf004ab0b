// Package store keeps the bot's durable state: webhook deliveries, commands,
// rollouts and their stages, scheduled jobs, environment locks and the audit log.
package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Errors callers compare with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrLocked   = errors.New("environment is locked")
	ErrConflict = errors.New("conflict")
	// ErrLeaseLost is returned when a worker completes a job whose lease ran
	// out and that another worker has claimed since: its result is dropped.
	ErrLeaseLost = errors.New("job lease lost")
)

// Store is the durable state behind the bot. SQLite implements it for one
// replica; PostgreSQL (claims with FOR UPDATE SKIP LOCKED) for several.
type Store interface {
	Deliveries
	Commands
	Rollouts
	Jobs
	Locks
	Audit
	Ping(ctx context.Context) error
	Close() error
}

// DeliveryState is where a webhook delivery is in its life.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending    DeliveryState = "pending"
	DeliveryProcessing DeliveryState = "processing"
	DeliveryDone       DeliveryState = "done"
	DeliveryFailed     DeliveryState = "failed"
)

// Delivery is one webhook delivery, keyed by X-GitHub-Delivery.
type Delivery struct {
	ID          string // X-GitHub-Delivery
	Event       string // X-GitHub-Event
	Payload     []byte
	State       DeliveryState
	Attempts    int
	Processed   int // times a worker completed it; 1 when all went well
	LastError   string
	ReceivedAt  time.Time
	NextAttempt time.Time
	DoneAt      time.Time
}

// Deliveries is the durable webhook queue.
type Deliveries interface {
	// EnqueueDelivery stores a delivery unless its id is already known;
	// inserted reports whether it was new. It returns once the row is durable.
	EnqueueDelivery(ctx context.Context, d Delivery) (inserted bool, err error)
	// EnqueueClaimedDelivery is EnqueueDelivery for a delivery the caller
	// keeps in memory and processes itself: stored already leased to worker.
	EnqueueClaimedDelivery(ctx context.Context, d Delivery, worker string, lease time.Duration) (inserted bool, err error)
	// ClaimDeliveries leases up to limit due deliveries to worker for lease.
	ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]Delivery, error)
	// CompleteDeliveries records the outcome of claimed deliveries.
	CompleteDeliveries(ctx context.Context, worker string, outcomes []DeliveryOutcome) error
	GetDelivery(ctx context.Context, id string) (Delivery, error)
	// DeliveryStats counts deliveries by state, and those processed more than once.
	DeliveryStats(ctx context.Context) (DeliveryStats, error)
}

// DeliveryOutcome is what became of one claimed delivery. A nil Err is
// success; otherwise the delivery is retried at RetryAt, or fails for good
// when RetryAt is zero.
type DeliveryOutcome struct {
	ID      string
	Err     error
	RetryAt time.Time
}

// DeliveryStats summarizes the queue.
type DeliveryStats struct {
	ByState          map[DeliveryState]int
	ProcessedTwice   int // deliveries completed more than once
	Total            int
	OldestPendingAge time.Duration
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
	// ListRollouts returns the rollouts f selects, newest (highest id) first.
	ListRollouts(ctx context.Context, f RolloutFilter) ([]Rollout, error)
	PutStage(ctx context.Context, s Stage) error
	ListStages(ctx context.Context, rolloutID int64) ([]Stage, error)
}

// Job is scheduled work: "analyse rollout 7 at 10:05".
type Job struct {
	ID       int64
	Kind     string
	Key      string // one pending job per kind and key; one running under a live lease
	Payload  []byte
	DueAt    time.Time
	State    string // pending, running, done, failed
	Attempts int    // claims so far, this one included (filled by ClaimDueJobs)
}

// Jobs is the scheduler's durable agenda.
type Jobs interface {
	// ScheduleJob adds a job, or moves the pending one with the same kind
	// and key to the new time and payload.
	ScheduleJob(ctx context.Context, j Job) (int64, error)
	// ClaimDueJobs leases to worker up to limit jobs that are due at now,
	// or running under a lease that ran out, earliest due first. Jobs of one
	// kind and key never run at once: a job whose twin runs under a live
	// lease waits, a claim hands out at most one job per kind and key, and
	// of an expired running job and its pending twin the running one is
	// claimed again first.
	ClaimDueJobs(ctx context.Context, worker string, now time.Time, limit int, lease time.Duration) ([]Job, error)
	// CancelJobs deletes the pending jobs of kind and key and says how many
	// there were; a running one finishes.
	CancelJobs(ctx context.Context, kind, key string) (int, error)
	// CompleteJob records the outcome of a job that worker holds; when the
	// lease has passed to another worker it changes nothing and returns
	// ErrLeaseLost.
	CompleteJob(ctx context.Context, worker string, id int64, err error) error
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
	Since       time.Time
	Limit       int // 1000 when zero
}

// Audit is the append-only decision log.
type Audit interface {
	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// jobOutcome is the state and error text a job's result is stored as.
func jobOutcome(err error) (state, msg string) {
	if err != nil {
		return "failed", err.Error()
	}
	return "done", ""
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

// sortJobs orders claimed jobs as they were chosen: earliest due first.
func sortJobs(jobs []Job) {
	sort.Slice(jobs, func(i, k int) bool {
		if !jobs[i].DueAt.Equal(jobs[k].DueAt) {
			return jobs[i].DueAt.Before(jobs[k].DueAt)
		}
		return jobs[i].ID < jobs[k].ID
	})
}
