// Package soak is the bot's chaos soak: many concurrent canary rollouts,
// healthy and regressed, driven through the fake GitHub (signed webhooks,
// the deploy workflow's answers) and a real Prometheus scraping a test
// exporter, while a controller kills bot processes with SIGKILL (on a
// timer, and at the failpoints of a failpoint build), fails GitHub calls,
// takes GitHub and Prometheus down, fills the database's disk, and runs two
// replicas on one PostgreSQL. Afterwards it checks, from the fake's state
// and the store, that every rollout ended as its metrics call for and that
// nothing was done twice or lost, and reports what it injected.
//
// Run is called by the bot's tests, which know how to start a bot process
// (the test binary is the bot): the short soak runs in `go test ./bot/`,
// the long one with `go test -tags soak -run TestSoak -timeout 15m ./bot/`.
package soak

import (
	"io"
	"os/exec"
	"time"
)

// Config is one soak.
type Config struct {
	// Name is the soak's column in the table.
	Name string
	// Rollouts is how many rollouts start, spread over Chaos; every
	// RegressedEvery-th is of a regressed version (latency ×1.5), which
	// must be rolled back; the others must be promoted.
	Rollouts, RegressedEvery int
	// Postgres puts the replicas on one PostgreSQL database; otherwise one
	// replica has a SQLite file (on a small tmpfs when DiskFull is set).
	Postgres bool
	Replicas int
	// Chaos is how long faults are injected; Drain bounds the wait after
	// it for every rollout to end.
	Chaos, Drain time.Duration
	// GitHubFaults is the share of GitHub calls failed during Chaos with
	// 5xx, primary and secondary rate limits and lost answers.
	GitHubFaults float64
	// KillEvery is the mean time between two kills of a random replica
	// (0: none); Failpoints arms the failpoints of a failpoint build.
	KillEvery  time.Duration
	Failpoints map[string]float64
	// GitHubDown, PrometheusDown and DiskFull are outages during Chaos.
	GitHubDown, PrometheusDown, DiskFull Outage
	Seed                                 uint64
	// Bot returns a command that runs the bot with these arguments.
	Bot func(args ...string) *exec.Cmd
	// Log hears what the soak does, a line at a time; nil for none.
	Log io.Writer
}

// Outage is a fault that lasts: from At after the start, for For.
type Outage struct{ At, For time.Duration }

// Result is what one soak did and found.
type Result struct {
	Name                           string
	Rollouts, Promoted, RolledBack int
	// Faults counts what was injected, by kind.
	Faults map[string]int
	// Restarts counts bot processes started again after a kill.
	Restarts int
	// TakeOvers are the times from a kill until no job was held by the
	// killed process any more (kills of a process holding none are not
	// counted).
	TakeOvers []time.Duration
	// Violations are the broken invariants, each described.
	Violations []string
	Took       time.Duration
}
