//go:build soak

package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/bot/soak"
	"github.com/modelgate/modelgate/internal/sysload"
)

var (
	soakSeed = flag.Uint64("soak.seed", 0, "the soak's seed (0: from the clock); the run logs it")
	soakOut  = flag.String("soak.out", "", "also write the table, with its command, seed, load and wall time, to this file (testdata/soak.md is the README's)")
)

// soakCommand runs the whole soak again with a seed.
const soakCommand = "go test -tags soak -run 'TestSoak$' -count=1 -v -timeout 15m ./bot/ -args -soak.seed=%d"

// TestSoak is the whole chaos soak (go test -tags soak -run 'TestSoak$'
// -v -timeout 15m ./bot/): with the soak tag the bot carries failpoints.
// One replica on a SQLite file whose disk fills up, then two replicas on
// one PostgreSQL, one killed again and again; each with GitHub failing a
// quarter of the calls, GitHub down for a minute and Prometheus stopped
// for a minute. It prints the table and fails on any violation.
func TestSoak(t *testing.T) {
	seed := *soakSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	load, start := sysload.Averages(), time.Now()
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
	var table strings.Builder
	soak.Table(&table, results)
	fmt.Fprintf(os.Stdout, "\n%s", table.String())
	if *soakOut == "" {
		return
	}
	report := fmt.Sprintf("`"+soakCommand+"` on %d cores, %s: %s wall time; load averages (1, 5, 15 minutes) %s before, %s after. "+
		"The seed picks the rollouts, the faults and the kills; the processes' timing, and so the counts, differ from run to run.\n\n```text\n%s```\n",
		seed, runtime.NumCPU(), runtime.Version(), time.Since(start).Round(time.Second), load, sysload.Averages(), table.String())
	if err := os.WriteFile(*soakOut, []byte(report), 0o644); err != nil {
		t.Errorf("write the table: %v", err)
	}
}
