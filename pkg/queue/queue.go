// Package queue is the bot's one durable job queue: webhook deliveries and
// rollout jobs alike are jobs of a kind and a key with a payload, due at a
// time, leased to one worker at a time under a lease the worker renews
// while it runs, and retried with one backoff policy.
package queue

import (
	"errors"
	"time"
)

// Errors callers compare with errors.Is.
var (
	ErrNotFound = errors.New("no such job")
	// ErrLeaseLost is returned when a worker records the outcome of, or
	// renews, a job whose lease ran out and that another worker has
	// claimed since: its result is dropped.
	ErrLeaseLost = errors.New("job lease lost")
)

// State is where a job is in its life.
type State string

// Job states.
const (
	Pending State = "pending"
	Running State = "running" // leased to a worker
	Done    State = "done"
	Failed  State = "failed" // for good
)

// Job is one piece of work. Jobs wait in a named queue, from which
// workers claim them.
type Job struct {
	ID      int64
	Queue   string // "webhook", "rollout"
	Kind    string // what the job does: an event name, "rollout.effects"
	Key     string // a delivery id, a rollout id
	Payload []byte
	State   State
	// DueAt is when a pending job is due, and when a running job's lease
	// ends: both are when the job is free to claim.
	DueAt       time.Time
	Attempts    int // claims so far, this one included
	Completions int // times a worker completed it; 1 when all went well
	LastError   string
	CreatedAt   time.Time
	DoneAt      time.Time
}

// Lease is a worker's hold on the jobs it runs, until a time.
type Lease struct {
	Worker string
	Until  time.Time
}

// Outcome is what became of a job a worker holds. A nil Err is success;
// otherwise the job is retried at RetryAt, or fails for good when RetryAt
// is zero.
type Outcome struct {
	ID      int64
	Err     error
	RetryAt time.Time
}

// Stats summarizes one queue.
type Stats struct {
	ByState          map[State]int
	CompletedTwice   int // jobs completed more than once: a bug
	Total            int
	OldestPendingAge time.Duration // of the oldest job pending or running
}
