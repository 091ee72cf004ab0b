//go:build soak

package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/modelgate/modelgate/bot/soak"
)

// TestSoak is the whole chaos soak (go test -tags soak -run 'TestSoak$'
// -v -timeout 15m ./bot/): with the soak tag the bot carries failpoints.
// One replica on a SQLite file whose disk fills up, then two replicas on
// one PostgreSQL, one killed again and again; each with GitHub failing a
// quarter of the calls, GitHub down for a minute and Prometheus stopped
// for a minute. It prints the table and fails on any violation.
func TestSoak(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	base := soak.Config{Rollouts: 12, RegressedEvery: 3, Chaos: 180 * time.Second, Drain: 90 * time.Second,
		GitHubFaults: 0.25, KillEvery: 20 * time.Second, Failpoints: soakFailpoints,
		GitHubDown:     soak.Outage{At: 20 * time.Second, For: time.Minute},
		PrometheusDown: soak.Outage{At: 90 * time.Second, For: time.Minute},
		Bot:            soakBot, Log: soakLog(t)}
	sqlite := base
	sqlite.Name, sqlite.Replicas, sqlite.Seed = "sqlite", 1, seed
	sqlite.DiskFull = soak.Outage{At: 155 * time.Second, For: 20 * time.Second}
	postgres := base
	postgres.Name, postgres.Replicas, postgres.Postgres, postgres.Seed = "postgres", 2, true, seed+1
	postgres.KillEvery = 12 * time.Second
	var results []soak.Result
	for _, c := range []soak.Config{sqlite, postgres} {
		t.Run(c.Name, func(t *testing.T) {
			res := soak.Run(t, c)
			results = append(results, res)
			if len(res.Violations) > 0 {
				t.Errorf("%d invariant violations", len(res.Violations))
			}
		})
	}
	fmt.Fprintln(os.Stdout)
	soak.Table(os.Stdout, results)
}
