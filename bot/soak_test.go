package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/bot/soak"
	"github.com/modelgate/modelgate/internal/failpoint"
)

// soakBot runs this test binary as the bot (TestMain), for the soak to
// kill.
func soakBot(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), botProcessEnv+"=1")
	return cmd
}

// every failpoint with a small chance per hit: a few kills a minute at
// the busiest points, fewer at the rarer ones.
var soakFailpoints = map[string]float64{
	failpoint.IntakeStored: 0.01, failpoint.IntakeAnswered: 0.01, failpoint.CommandReplied: 0.05,
	failpoint.EffectMarked: 0.01, failpoint.EffectDone: 0.01, failpoint.LookJudged: 0.01,
}

// TestSoakShort is the soak in little, for every `go test`: three
// rollouts through GitHub faults on a fifth of the calls, kills, a
// Prometheus outage and a short GitHub one. The whole soak is TestSoak
// (go test -tags soak).
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of rollouts through faults")
	}
	res := soak.Run(t, soak.Config{Name: "short", Rollouts: 3, RegressedEvery: 3, Replicas: 1,
		Chaos: 30 * time.Second, Drain: 90 * time.Second, GitHubFaults: 0.2, KillEvery: 12 * time.Second,
		Failpoints:     soakFailpoints,
		PrometheusDown: soak.Outage{At: 10 * time.Second, For: 7 * time.Second},
		GitHubDown:     soak.Outage{At: 20 * time.Second, For: 4 * time.Second},
		Seed:           uint64(time.Now().UnixNano()), Bot: soakBot, Log: soakLog(t)})
	var b strings.Builder
	soak.Table(&b, []soak.Result{res})
	t.Logf("soak:\n%s", b.String())
	if len(res.Violations) > 0 {
		t.Errorf("%d invariant violations", len(res.Violations))
	}
}

// soakLog shows the soak's progress with -v.
func soakLog(t *testing.T) logWriter { return logWriter{t} }

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
