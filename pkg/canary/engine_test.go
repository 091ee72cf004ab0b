package canary_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/golden"
	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/canary/engine"
	"github.com/modelgate/modelgate/pkg/canary/event"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/config"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	autoPlan   = fmt.Sprintf(planYAML, "")
	manualPlan = fmt.Sprintf(planYAML, ", gate: manual")
)

func (h *harness) canary(manifest string) chatops.Outcome {
	h.t.Helper()
	out, err := h.eng.Commands.Canary(context.Background(), h.request("/canary", manifest))
	require.NoError(h.t, err)
	h.drain()
	return out
}

func (h *harness) command(line string) chatops.Outcome {
	h.t.Helper()
	req := h.request(line, autoPlan)
	handlers := map[string]func(context.Context, chatops.Request) (chatops.Outcome, error){
		"promote": h.eng.Commands.Promote, "rollback": h.eng.Commands.Rollback, "abort": h.eng.Commands.Abort,
		"pause": h.eng.Commands.Pause, "resume": h.eng.Commands.Resume, "lock": h.eng.Commands.Lock, "unlock": h.eng.Commands.Unlock,
	}
	out, err := handlers[req.Command.Name](context.Background(), req)
	require.NoError(h.t, err)
	h.drain()
	return out
}

func TestHealthyCanaryIsPromoted(t *testing.T) {
	h := newHarness(t)
	out := h.canary(autoPlan)
	require.False(t, out.Refused, out.Reply)
	assert.Equal(t, []string{"deploy:canary@5"}, h.gh.tasks())
	assert.Equal(t, "deploying", h.phase())

	h.answer("success")
	assert.Equal(t, "analyzing", h.phase())
	assert.Equal(t, []string{"in_progress"}, h.gh.statuses[h.gh.last().ID])
	h.wait(30 * time.Second)
	assert.Equal(t, []string{"deploy:canary@5", "deploy:canary@25"}, h.gh.tasks())
	h.answer("success")
	h.wait(30 * time.Second)
	assert.Equal(t, []string{"deploy:canary@5", "deploy:canary@25", "deploy:promote@100"}, h.gh.tasks())
	h.answer("success")

	assert.Equal(t, "promoted", h.phase())
	assert.Equal(t, []string{"success"}, h.gh.statuses[h.gh.last().ID])
	bodies := h.gh.bodies()
	require.Len(t, bodies, 2, "one status comment, edited in place, and the final notice")
	assert.Contains(t, bodies[1], markdown.Text("3.2.0 is promoted to 100 %. It passed 3 stages (5 %, 25 %, 100 %) in 1m0s."))
	assert.Regexp(t, `Last judgement, look 3 of 3&#58; latency\\_p99\\_ms pass \\\(\+[0-9.]+ % \\\[`, bodies[1])
	rows, err := h.st.ListAudit(context.Background(), store.AuditFilter{RolloutID: 1})
	require.NoError(t, err)
	var actions []string
	for _, a := range rows {
		actions = append(actions, a.Action)
	}
	assert.Subset(t, actions, []string{"rollout.started", "rollout.stage", "rollout.promoted"})
}

func TestRegressionRollsBackAtOnce(t *testing.T) {
	h := newHarness(t)
	h.prov.factor["3.2.0"] = 1.3
	h.canary(autoPlan)
	h.answer("success")
	h.wait(30 * time.Second)

	assert.Equal(t, "rolled_back", h.phase())
	assert.Equal(t, []string{"deploy:canary@5", "deploy:rollback@0"}, h.gh.tasks())
	rb := h.gh.last()
	assert.Equal(t, "3.2.0", rb.Payload.Version)
	assert.Equal(t, "3.1.0", rb.Payload.BaselineVersion)
	first := h.gh.deployments[0].ID
	assert.Equal(t, []string{"in_progress", "failure"}, h.gh.statuses[first])
	note := h.gh.bodies()[1]
	assert.Contains(t, note, `latency\_p99\_ms +`)
	assert.Contains(t, note, "fail, p=")
	assert.Contains(t, note, "traffic returns to 3.1.0")
}

func TestManualGateWaitsForPromote(t *testing.T) {
	h := newHarness(t)
	h.canary(manualPlan)
	h.answer("success")
	h.wait(30 * time.Second)
	h.answer("success")
	h.wait(40 * time.Second)
	assert.Equal(t, "waiting", h.phase())
	assert.Len(t, h.gh.tasks(), 2, "nothing deploys past a manual gate on its own")

	out := h.command("/promote")
	require.False(t, out.Refused, out.Reply)
	assert.Equal(t, "deploy:promote@100", h.gh.tasks()[2])
}

func TestRollbackMidStage(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	h.answer("success")
	h.wait(10 * time.Second)
	out := h.command(`/rollback "p99 alarms in #incidents"`)
	require.False(t, out.Refused, out.Reply)
	assert.Equal(t, "rolled_back", h.phase())
	assert.Equal(t, "deploy:rollback@0", h.gh.tasks()[1])

	again := h.command("/rollback")
	assert.True(t, again.Refused, "nothing left to roll back")
}

func TestRestartMidWindowResumes(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	h.answer("success")
	h.wait(10 * time.Second)
	h.restart()
	h.wait(20 * time.Second)
	assert.Equal(t, []string{"deploy:canary@5", "deploy:canary@25"}, h.gh.tasks(), "the window went on after the restart")
}

func TestLostAnswersCreateNothingTwice(t *testing.T) {
	for _, method := range []string{"CreateDeployment", "PostComment"} {
		t.Run(method, func(t *testing.T) {
			h := newHarness(t)
			h.gh.lose[method] = 1 // created on GitHub, the answer lost on the way back
			out, err := h.eng.Commands.Canary(context.Background(), h.request("/canary", autoPlan))
			require.NoError(t, err)
			require.False(t, out.Refused)
			_, err = h.eng.Scheduler.RunDue(context.Background())
			require.ErrorContains(t, err, "connection reset", "the lost answer fails the effects job")
			h.restart() // and the bot restarts before trying again
			h.clock.Add(time.Minute)
			h.drain()
			assert.Equal(t, []string{"deploy:canary@5"}, h.gh.tasks(), "the retry found the deployment")
			assert.Len(t, h.gh.bodies(), 1, "the retry found the status comment")
		})
	}
}

func TestProviderDownPauses(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	h.answer("success")
	h.prov.down = true
	h.wait(30 * time.Second)
	assert.Equal(t, "paused", h.phase())
	assert.Len(t, h.gh.tasks(), 1, "never a promotion without data")
	assert.Contains(t, h.gh.bodies()[1], "metrics provider failed 3 times")

	h.prov.down = false
	out := h.command("/resume")
	require.False(t, out.Refused, out.Reply)
	h.wait(30 * time.Second)
	assert.Len(t, h.gh.tasks(), 2)
}

func TestOutageEndsOnItsOwn(t *testing.T) {
	h := newHarness(t)
	// One failed look pauses: the pause must end without anyone's /resume,
	// and the first look after it, short of samples, must not pause again.
	h.canary(strings.Replace(autoPlan, "interval: 10s", "interval: 10s\n      consecutive_error_limit: 1", 1))
	h.answer("success")
	h.prov.down = true
	h.wait(10 * time.Second)
	require.Equal(t, "paused", h.phase())
	notices := len(h.gh.bodies())
	assert.Contains(t, h.gh.bodies()[notices-1], "paused until it answers again")
	h.wait(time.Minute)
	assert.Equal(t, "paused", h.phase(), "still down: still paused")
	assert.Len(t, h.gh.bodies(), notices, "probing a provider that is down says nothing more")

	h.prov.down, h.prov.thin = false, 4 // back, with nothing collected for the probe and the first look
	h.wait(10 * time.Second)
	assert.Equal(t, "analyzing", h.phase(), "the pause ended on its own")
	require.Len(t, h.gh.bodies(), notices+1)
	assert.Contains(t, h.gh.bodies()[notices], markdown.Text("the metrics provider answers again: the analysis of stage 1 (5 %) restarts on its own"))
	h.wait(10 * time.Second)
	assert.Equal(t, "analyzing", h.phase(), "a first look short of samples does not pause again")
	h.wait(40 * time.Second)
	assert.Equal(t, []string{"deploy:canary@5", "deploy:canary@25"}, h.gh.tasks(), "the restarted window passed")

	rows, err := h.st.ListAudit(context.Background(), store.AuditFilter{RolloutID: 1})
	require.NoError(t, err)
	var trail []string
	for _, a := range rows {
		if a.Action == store.ActionRolloutPaused || a.Action == store.ActionRolloutResumed {
			trail = append(trail, a.Action+" by "+a.Actor)
		}
	}
	assert.Equal(t, []string{"rollout.paused by modelgate", "rollout.resumed by modelgate"}, trail)
}

func TestNoDataPausesAfterTheConfiguredLimit(t *testing.T) {
	h := newHarness(t)
	h.prov.empty = true
	plan := strings.Replace(autoPlan, "interval: 10s", "interval: 10s\n      consecutive_error_limit: 2", 1)
	h.canary(plan)
	h.answer("success")
	h.wait(10 * time.Second)
	assert.Equal(t, "analyzing", h.phase(), "one empty look is tolerated")
	h.wait(10 * time.Second)
	assert.Equal(t, "paused", h.phase())
	assert.Len(t, h.gh.tasks(), 1, "never a promotion without data")
	notes := strings.Join(h.gh.bodies(), "\n")
	assert.Contains(t, notes, `failed 2 times in a row \(no data \(latency\_p99\_ms&#58; baseline has no samples`)
}

func TestDeploymentFailureEndsRollout(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	h.answer("failure")
	assert.Equal(t, "failed", h.phase())
	assert.Equal(t, "deploy:rollback@0", h.gh.tasks()[1])
}

func TestGitHubRefusingTheDeploymentFailsTheRollout(t *testing.T) {
	h := newHarness(t)
	h.gh.reject = fmt.Errorf("%w: 409 Conflict: Commit status checks failed", gh.ErrRejected)
	h.canary(autoPlan)
	l, err := h.rollout()
	require.NoError(t, err)
	assert.Equal(t, "failed", string(l.Record.State.Phase))
	assert.Contains(t, l.Record.State.Reason, "GitHub refused the deployment")
}

func TestStatusesThatAreNotTheWorkflowsAnswerAreIgnored(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	d := h.gh.last()
	base := event.DeploymentStatus{Repo: gh.Repo{Owner: "acme", Name: "models"}, DeploymentID: d.ID, Task: d.Task,
		Creator: "modelgate[bot]", Payload: mustJSON(t, d.Payload), State: "success", Sender: "github-actions[bot]"}
	cases := map[string]func(*event.DeploymentStatus){
		"the bot's own status":      func(e *event.DeploymentStatus) { e.Sender = "modelgate[bot]" },
		"someone else's deployment": func(e *event.DeploymentStatus) { e.Creator = "mallory" },
		"another repository":        func(e *event.DeploymentStatus) { e.Repo.Name = "other" },
		"a stage not running": func(e *event.DeploymentStatus) {
			e.Payload = mustJSON(t, rollout.Payload{Model: "fraud-detector", Version: "3.2.0", RolloutID: 1, Stage: 2})
		},
		"an unknown rollout": func(e *event.DeploymentStatus) {
			e.Payload = mustJSON(t, rollout.Payload{Model: "fraud-detector", Version: "3.2.0", RolloutID: 99, Stage: 1})
		},
		"a payload that is not ours": func(e *event.DeploymentStatus) { e.Payload = []byte(`"deploy everything"`) },
		"a queued status":            func(e *event.DeploymentStatus) { e.State = "queued" },
		"another deployment id":      func(e *event.DeploymentStatus) { e.DeploymentID = 1 },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			ev := base
			change(&ev)
			require.NoError(t, h.eng.Events.HandleDeploymentStatus(context.Background(), ev))
			assert.Equal(t, "deploying", h.phase())
		})
	}
}

func TestCanaryRefusals(t *testing.T) {
	cases := []struct {
		name  string
		setup func(h *harness, req *chatops.Request)
		want  string
	}{
		{"draft", func(h *harness, r *chatops.Request) { r.PullRequest.Draft = true }, "is a draft"},
		{"fork", func(h *harness, r *chatops.Request) { r.PullRequest.HeadRepo = "evil/models" }, "comes from the fork `evil/models`"},
		{"validation failed", func(h *harness, _ *chatops.Request) {
			h.gh.checks = []gh.CheckRun{{Name: "modelgate", Status: "completed", Conclusion: "failure"}}
		}, "concluded failure"},
		{"validation running", func(h *harness, _ *chatops.Request) {
			h.gh.checks = []gh.CheckRun{{Name: "modelgate", Status: "in_progress"}}
		}, "still in_progress"},
		{"no validation", func(h *harness, _ *chatops.Request) { h.gh.checks = nil }, "no check run named like"},
		{"bad plan", func(h *harness, r *chatops.Request) {
			r.Targets[0].Manifest["spec"].(map[string]any)["rollout"].(map[string]any)["analysys"] = 1
		}, "is not valid"},
		{"no baseline", func(h *harness, r *chatops.Request) {
			delete(r.Targets[0].Manifest["spec"].(map[string]any)["rollout"].(map[string]any), "baseline")
		}, "no baseline to compare with"},
		{"unknown provider", func(h *harness, r *chatops.Request) {
			r.Targets[0].Manifest["spec"].(map[string]any)["rollout"].(map[string]any)["analysis"].(map[string]any)["provider"] = "datadog"
		}, "unknown metrics provider \"datadog\""},
		{"baseline is the version", func(h *harness, r *chatops.Request) { r.Targets[0].Version = "3.1.0" }, "already the live version"},
		{"bad default branch config", func(h *harness, r *chatops.Request) {
			r.ConfigErr = errors.New("the default branch's .github/modelgate.yml: line 1: did not find expected node content")
		}, "modelgate.yml"},
		{"locked", func(h *harness, _ *chatops.Request) {
			_, err := h.st.LockEnvironment(context.Background(), store.Lock{Repo: "acme/models", Environment: "production",
				Reason: "release freeze", LockedBy: "bob", LockedAt: h.clock.Now()})
			require.NoError(t, err)
		}, "locked by @bob"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			req := h.request("/canary", autoPlan)
			tc.setup(h, &req)
			out, err := h.eng.Commands.Canary(context.Background(), req)
			require.NoError(t, err)
			assert.True(t, out.Refused, out.Reply)
			assert.Contains(t, out.Reply, tc.want)
			assert.Empty(t, h.gh.tasks())
		})
	}
}

func TestForksAllowedByTheDefaultBranchConfig(t *testing.T) {
	h := newHarness(t)
	req := h.request("/canary", autoPlan)
	req.Config = &config.Config{Bot: config.Bot{AllowForks: true}}
	req.PullRequest.HeadRepo = "friend/models"
	out, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	assert.False(t, out.Refused, out.Reply)
}

func TestOneRolloutPerModelAndEnvironment(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	req := h.request("/canary", autoPlan)
	req.PullRequest.Number = 2
	out, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	assert.True(t, out.Refused)
	assert.Contains(t, out.Reply, "from #1 (stage 1, 5 %")
}

func TestRedeliveredCanaryFindsItsRollout(t *testing.T) {
	h := newHarness(t)
	req := h.request("/canary", autoPlan)
	req.DeliveryID = "d-42"
	out, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	require.False(t, out.Refused)
	again, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	assert.False(t, again.Refused, again.Reply)
	assert.Contains(t, again.Reply, "it was started by this comment")
	h.drain()
	assert.Len(t, h.gh.tasks(), 1)
}

// A /canary whose delivery is tried again after the rollout it started
// has ended (its reply failed while GitHub was down, and the rollout was
// rolled back meanwhile) does not start a second one (found by the soak).
func TestRetriedCanaryAfterItsRolloutEndedStartsNothing(t *testing.T) {
	h := newHarness(t)
	req := h.request("/canary", autoPlan)
	req.DeliveryID = "d-42"
	out, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	require.False(t, out.Refused)
	h.drain()
	require.False(t, h.command("/rollback").Refused)
	require.Equal(t, "rolled_back", h.phase())
	again, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	assert.Contains(t, again.Reply, "was started by this comment")
	rows, err := h.st.ListRollouts(context.Background(), store.RolloutFilter{})
	require.NoError(t, err)
	assert.Len(t, rows, 1, "no second rollout")
}

func TestConcurrentCanariesOneWins(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	outs := make([]chatops.Outcome, 2)
	for i := range outs {
		wg.Go(func() {
			req := h.request("/canary", autoPlan)
			req.PullRequest.Number = i + 1
			out, err := h.eng.Commands.Canary(context.Background(), req)
			assert.NoError(t, err)
			outs[i] = out
		})
	}
	wg.Wait()
	assert.NotEqual(t, outs[0].Refused, outs[1].Refused, "exactly one wins: %q / %q", outs[0].Reply, outs[1].Reply)
}

// A replica that dies holding a rollout's job loses it when its lease
// ends, seconds later, and another replica carries the job out.
func TestADeadReplicasJobIsTakenOverWhenItsLeaseEnds(t *testing.T) {
	h := newHarness(t)
	_, err := h.eng.Commands.Canary(context.Background(), h.request("/canary", autoPlan))
	require.NoError(t, err)
	dead, err := h.st.Queue().Claim(context.Background(), canary.JobQueue, h.clock.Now(), 10,
		queue.Lease{Worker: "dead", Until: h.clock.Now().Add(queue.DefaultLease)}) // as the scheduler leases
	require.NoError(t, err)
	require.Len(t, dead, 1)

	n, err := h.eng.Scheduler.RunDue(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "held by the dead replica")
	h.clock.Add(queue.DefaultLease)
	h.drain()
	assert.Equal(t, []string{"deploy:canary@5"}, h.gh.tasks(), "taken over once the lease ended")
}

func TestTwoReplicasDoNotActTwice(t *testing.T) {
	h := newHarness(t)
	other := h.newEngine("w2")
	h.prov.factor["3.2.0"] = 1.0
	_, err := h.eng.Commands.Canary(context.Background(), h.request("/canary", autoPlan))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for _, e := range []*engine.Engine{h.eng, other} {
		wg.Go(func() {
			for range 20 {
				_, err := e.Scheduler.RunDue(context.Background())
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, []string{"deploy:canary@5"}, h.gh.tasks())
	assert.Len(t, h.gh.bodies(), 1)
}

func TestLocks(t *testing.T) {
	h := newHarness(t)
	out := h.command(`/lock production "release freeze"`)
	require.False(t, out.Refused, out.Reply)
	again := h.command("/lock production")
	assert.True(t, again.Refused)
	assert.Contains(t, again.Reply, "locked by @alice")
	assert.Contains(t, again.Reply, "release freeze")
	require.False(t, h.command("/unlock production").Refused)
	gone := h.command("/unlock production")
	assert.True(t, gone.Refused)
	assert.Contains(t, gone.Reply, "is not locked")
}

func TestPromoteRefusedWhenLockedOrHeadMoved(t *testing.T) {
	h := newHarness(t)
	h.canary(manualPlan)
	h.answer("success")
	h.wait(30 * time.Second)
	h.answer("success")
	h.wait(40 * time.Second)
	require.Equal(t, "waiting", h.phase())

	req := h.request("/promote", autoPlan)
	req.PullRequest.HeadSHA = strings.Repeat("b", 40)
	out, err := h.eng.Commands.Promote(context.Background(), req)
	require.NoError(t, err)
	assert.True(t, out.Refused)
	assert.Contains(t, out.Reply, "head moved from aaaaaaa to bbbbbbb")

	h.command(`/lock production "incident 42"`)
	out = h.command("/promote")
	assert.True(t, out.Refused)
	assert.Contains(t, out.Reply, "incident 42")
	rb := h.command("/rollback")
	assert.False(t, rb.Refused, "a lock never stops a rollback")
}

func TestDryRunChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.gh.checks = []gh.CheckRun{{Name: "modelgate", Status: "completed", Conclusion: "failure"}}
	req := h.request("/canary --dry-run", autoPlan)
	req.PolicyReasons = []string{"a high-risk model needs two approvals"}
	req.Approvers = []string{"bob"}
	out, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	assert.False(t, out.Refused)
	for _, want := range []string{"Dry run", "aaaaaaa", "| 1 | 5 % | 30s (3 looks) | auto |", "`latency_p99_ms`",
		"⛔ validation and draft", "⛔ governance policies", "two approvals", "1 (bob)", "✅ lock on `production`", "2 gate(s) would block"} {
		assert.Contains(t, out.Reply, want)
	}
	rows, err := h.st.ListRollouts(context.Background(), store.RolloutFilter{})
	require.NoError(t, err)
	assert.Empty(t, rows)
	assert.Empty(t, h.gh.tasks())
}

func TestPauseAndActOnNothing(t *testing.T) {
	h := newHarness(t)
	out := h.command("/pause")
	assert.True(t, out.Refused)
	assert.Contains(t, out.Reply, "nothing to pause")

	h.canary(autoPlan)
	h.answer("success")
	require.False(t, h.command("/pause").Refused)
	h.wait(60 * time.Second)
	assert.Equal(t, "paused", h.phase())
	assert.Len(t, h.gh.tasks(), 1, "a paused rollout does not advance")
	assert.True(t, h.command("/pause").Refused)
}

func TestCommentShowsAnalysis(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	h.answer("success")
	h.wait(10 * time.Second)
	body := h.gh.bodies()[0]
	assert.True(t, strings.Contains(body, "latency_p99_ms"), body)
}

// pulls is the chatops.GitHub of a command, as far as the engine reads it:
// other pull requests' states.
type pulls struct {
	chatops.GitHub
	state map[int]gh.PullRequest
}

func (p pulls) PullRequest(_ context.Context, _ gh.Repo, n int) (gh.PullRequest, error) {
	pr, ok := p.state[n]
	if !ok {
		return pr, gh.ErrNotFound
	}
	return pr, nil
}

func TestClosedPullRequestReleasesItsRollout(t *testing.T) {
	for _, merged := range []bool{false, true} {
		t.Run(fmt.Sprint("merged=", merged), func(t *testing.T) {
			h := newHarness(t)
			h.canary(autoPlan)
			h.answer("success")
			require.NoError(t, h.eng.Events.HandlePullRequest(context.Background(), event.PullRequest{
				Repo: gh.Repo{Owner: "acme", Name: "models"}, Number: 1, Action: "closed", Merged: merged, Sender: "alice"}))
			h.drain()
			assert.Equal(t, "rolled_back", h.phase())
			assert.Equal(t, "deploy:rollback@0", h.gh.tasks()[1])
			verb := map[bool]string{false: "closed", true: "merged"}[merged]
			assert.Contains(t, strings.Join(h.gh.bodies(), "\n"), markdown.Text("#1 was "+verb+" before the rollout finished"))
		})
	}
}

func TestCanaryReleasesAHolderWhoseCloseWasMissed(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	req := h.request("/canary", autoPlan)
	req.PullRequest.Number = 2
	req.GitHub = pulls{GitHub: h.gh, state: map[int]gh.PullRequest{1: {Number: 1, State: "closed", Merged: true}}}
	out, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	require.False(t, out.Refused, out.Reply)
	assert.Contains(t, out.Reply, "Released the rollout of `fraud-detector` `3.2.0` from #1, which is merged")
	assert.Contains(t, out.Reply, "Canary of `fraud-detector`")
	h.drain()
	assert.ElementsMatch(t, []string{"deploy:canary@5", "deploy:rollback@0", "deploy:canary@5"}, h.gh.tasks())

	still := h.request("/canary", autoPlan)
	still.PullRequest.Number = 3
	still.GitHub = pulls{GitHub: h.gh, state: map[int]gh.PullRequest{2: {Number: 2, State: "open"}}}
	out, err = h.eng.Commands.Canary(context.Background(), still)
	require.NoError(t, err)
	assert.True(t, out.Refused, "an open holder keeps its rollout")
	assert.Contains(t, out.Reply, "from #2")
}

func TestCommandWrittenBeforeAPushIsRefused(t *testing.T) {
	h := newHarness(t)
	req := h.request("/canary", autoPlan)
	req.CommentedAt = h.clock.Now()
	require.NoError(t, h.eng.Events.HandlePullRequest(context.Background(), event.PullRequest{
		Repo: gh.Repo{Owner: "acme", Name: "models"}, Number: 1, Action: "synchronize",
		HeadSHA: strings.Repeat("c", 40), At: h.clock.Now().Add(2 * time.Second), Sender: "alice"}))
	out, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	assert.True(t, out.Refused)
	assert.Contains(t, out.Reply, "commits were pushed to #1 after this comment (the head is now ccccccc)")

	later := h.request("/canary", autoPlan)
	later.CommentedAt = h.clock.Now().Add(time.Minute)
	out, err = h.eng.Commands.Canary(context.Background(), later)
	require.NoError(t, err)
	assert.False(t, out.Refused, "a command written after the push deploys the new head: %s", out.Reply)
}

func TestDryRunShowsAPushAfterTheComment(t *testing.T) {
	h := newHarness(t)
	req := h.request("/canary --dry-run", autoPlan)
	req.CommentedAt = h.clock.Now()
	require.NoError(t, h.eng.Events.HandlePullRequest(context.Background(), event.PullRequest{
		Repo: gh.Repo{Owner: "acme", Name: "models"}, Number: 1, Action: "synchronize",
		HeadSHA: strings.Repeat("c", 40), At: h.clock.Now().Add(time.Second), Sender: "alice"}))
	out, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	assert.Contains(t, out.Reply, "⛔ pinned commit: commits were pushed to #1 after this comment")
	assert.Contains(t, out.Reply, "1 gate(s) would block")
}

func TestPushDuringARolloutIsToldAndPromoteRefused(t *testing.T) {
	h := newHarness(t)
	h.canary(manualPlan)
	require.NoError(t, h.eng.Events.HandlePullRequest(context.Background(), event.PullRequest{
		Repo: gh.Repo{Owner: "acme", Name: "models"}, Number: 1, Action: "synchronize",
		HeadSHA: strings.Repeat("d", 40), At: h.clock.Now(), Sender: "alice"}))
	h.drain()
	assert.Contains(t, strings.Join(h.gh.bodies(), "\n"), markdown.Text("The head of #1 moved to ddddddd"))
	assert.Equal(t, []string{"deploy:canary@5"}, h.gh.tasks(), "the rollout stays on its pinned commit")
	assert.Equal(t, strings.Repeat("a", 40), h.gh.last().Ref)
}

const productionPlan = `apiVersion: modelgate.dev/v1
kind: Model
metadata: {name: fraud-detector, version: 3.2.0, owner: risk-ml@example.com}
spec:
  governance: {risk_tier: high}
  rollout:
    environment: production
    baseline: 3.1.0
    stages:
      - {traffic: 5, analysis: 30m}
      - {traffic: 25, analysis: 1h}
      - {traffic: 50, analysis: 1h, gate: manual}
      - {traffic: 100}
    analysis:
      interval: 5m
      metrics:
        - name: latency_p99_ms
          query: 'histogram_quantile(0.99, sum by (le) (rate(model_latency_seconds_bucket{model="{{.Model}}",version="{{.Version}}"}[1m]))) * 1000'
          tolerance: 0.05
          critical: true
        - name: error_rate
          query: 'sum(rate(model_errors_total{model="{{.Model}}",version="{{.Version}}"}[1m])) / sum(rate(model_requests_total{model="{{.Model}}",version="{{.Version}}"}[1m]))'
          tolerance: 0.1
`

// The README quotes this reply.
func TestDryRunReplyGolden(t *testing.T) {
	h := newHarness(t)
	_, err := h.st.LockEnvironment(context.Background(), store.Lock{Repo: "acme/models", Environment: "production",
		Reason: "release freeze", LockedBy: "alice", LockedAt: h.clock.Now()})
	require.NoError(t, err)
	req := h.request("/canary --dry-run", productionPlan)
	req.PolicyReasons = []string{"a high-risk model needs 2 approvals before it leaves 5 % (has 1)"}
	req.Approvers = []string{"carol"}
	out, err := h.eng.Commands.Canary(context.Background(), req)
	require.NoError(t, err)
	golden.Assert(t, "dryrun.md", out.Reply)
}

// flakyStore fails the next n rollout updates, as a database that went
// away would.
type flakyStore struct {
	store.Store
	fail int
}

func (s *flakyStore) UpdateRollout(ctx context.Context, r store.Rollout) (store.Rollout, error) {
	if s.fail > 0 {
		s.fail--
		return store.Rollout{}, fmt.Errorf("database is locked")
	}
	return s.Store.UpdateRollout(ctx, r)
}

func TestStoreFailureLosesNothing(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	flaky := &flakyStore{Store: h.st, fail: 1}
	h.eng = h.engineOn(flaky, "w1")

	// The workflow's answer cannot be stored: the webhook fails, to be
	// redelivered, and the rollout has not moved.
	d := h.gh.last()
	ev := event.DeploymentStatus{Repo: gh.Repo{Owner: "acme", Name: "models"}, DeploymentID: d.ID, Task: d.Task,
		Creator: "modelgate[bot]", Payload: mustJSON(t, d.Payload), State: "success", Sender: "github-actions[bot]"}
	err := h.eng.Events.HandleDeploymentStatus(context.Background(), ev)
	require.ErrorContains(t, err, "database is locked")
	assert.Equal(t, "deploying", h.phase())

	// The redelivery goes through.
	require.NoError(t, h.eng.Events.HandleDeploymentStatus(context.Background(), ev))
	h.drain()
	assert.Equal(t, "analyzing", h.phase())

	// An effect that cannot record its progress is retried by its job.
	flaky.fail = 1
	var failed error
	for range 12 {
		h.clock.Add(10 * time.Second)
		for range 5 {
			if _, err := h.eng.Scheduler.RunDue(context.Background()); err != nil {
				failed = err
			}
		}
	}
	require.ErrorContains(t, failed, "database is locked", "a job failed and was retried")
	assert.Equal(t, []string{"deploy:canary@5", "deploy:canary@25"}, h.gh.tasks(), "nothing lost, nothing twice")
}

func TestPromoteAdvancesWhenTheJudgePasses(t *testing.T) {
	h := newHarness(t)
	h.canary(autoPlan)
	h.answer("success")
	out := h.command("/promote")
	assert.True(t, out.Refused, "no judgement yet")
	assert.Contains(t, out.Reply, "the judge is not passing it")

	h.wait(10 * time.Second) // look 1 of 3 passes
	out = h.command("/promote")
	require.False(t, out.Refused, out.Reply)
	assert.Equal(t, []string{"deploy:canary@5", "deploy:canary@25"}, h.gh.tasks())
}

// /canary and /canary --dry-run evaluate one list of gates: what refuses
// the one is what the other shows closed, in the same words.
func TestCanaryRefusesWhatTheDryRunShowsClosed(t *testing.T) {
	cases := map[string]func(h *harness, req *chatops.Request){
		"configuration": func(_ *harness, r *chatops.Request) {
			r.ConfigErr = errors.New("the default branch's .github/modelgate.yml: bad")
		},
		"fork":  func(_ *harness, r *chatops.Request) { r.PullRequest.HeadRepo = "evil/models" },
		"draft": func(_ *harness, r *chatops.Request) { r.PullRequest.Draft = true },
		"validation": func(h *harness, _ *chatops.Request) {
			h.gh.checks = []gh.CheckRun{{Name: "modelgate", Status: "completed", Conclusion: "failure"}}
		},
		"pinned commit": func(h *harness, r *chatops.Request) {
			r.CommentedAt = h.clock.Now()
			require.NoError(h.t, h.eng.Events.HandlePullRequest(context.Background(), event.PullRequest{
				Repo: gh.Repo{Owner: "acme", Name: "models"}, Number: 1, Action: "synchronize",
				HeadSHA: strings.Repeat("c", 40), At: h.clock.Now().Add(time.Second), Sender: "alice"}))
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			req := h.request("/canary", autoPlan)
			setup(h, &req)
			out, err := h.eng.Commands.Canary(context.Background(), req)
			require.NoError(t, err)
			require.True(t, out.Refused)
			req.Command.DryRun = true
			dry, err := h.eng.Commands.Canary(context.Background(), req)
			require.NoError(t, err)
			assert.Contains(t, dry.Reply, ": "+out.Reply+"\n", "the dry run shows the gate that refused /canary")
			assert.Contains(t, dry.Reply, "1 gate(s) would block")
		})
	}
}

// auditThenFail fails the first rollout update after each audit entry
// appended, as a process killed between the two would leave it.
type auditThenFail struct {
	store.Store
	armed bool
}

func (s *auditThenFail) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	s.armed = true
	return s.Store.AppendAudit(ctx, e)
}

func (s *auditThenFail) UpdateRollout(ctx context.Context, r store.Rollout) (store.Rollout, error) {
	if s.armed {
		s.armed = false
		return store.Rollout{}, fmt.Errorf("killed")
	}
	return s.Store.UpdateRollout(ctx, r)
}

// Every audit entry of a rollout is written once, though the process dies
// after writing it and before the outbox says so; a stage's entry is
// queued in the write that records its deployment, so that a death after
// that write loses none (found by the soak).
func TestAuditEntriesOnceThroughDeaths(t *testing.T) {
	h := newHarness(t)
	h.eng = h.engineOn(&auditThenFail{Store: h.st}, "w1")
	out, err := h.eng.Commands.Canary(context.Background(), h.request("/canary", autoPlan))
	require.NoError(t, err)
	require.False(t, out.Refused, out.Reply)
	for range 3 {
		h.clock.Add(20 * time.Second)
		for range 10 {
			_, _ = h.eng.Scheduler.RunDue(context.Background())
		}
		if len(h.gh.tasks()) > 0 {
			d := h.gh.last()
			_ = h.eng.Events.HandleDeploymentStatus(context.Background(), event.DeploymentStatus{
				Repo: gh.Repo{Owner: "acme", Name: "models"}, DeploymentID: d.ID, Task: d.Task, Creator: "modelgate[bot]",
				Payload: mustJSON(t, d.Payload), State: "success", Sender: "github-actions[bot]"})
		}
	}
	for range 12 {
		h.clock.Add(10 * time.Second)
		for range 10 {
			_, _ = h.eng.Scheduler.RunDue(context.Background())
		}
	}
	rows, err := h.st.ListAudit(context.Background(), store.AuditFilter{RolloutID: 1})
	require.NoError(t, err)
	n := map[string]int{}
	for _, a := range rows {
		n[a.Action]++
	}
	require.NotEmpty(t, h.gh.tasks())
	assert.Equal(t, 1, n[store.ActionRolloutStarted], "started once: %v", n)
	stages := 0
	for _, task := range h.gh.tasks() {
		if !strings.HasPrefix(task, "deploy:rollback") {
			stages++
		}
	}
	assert.Equal(t, stages, n[store.ActionRolloutStage], "one entry per stage deployed: %v, deployments %v", n, h.gh.tasks())
}

// A status comment whose first post lost its answer, and which a later
// refresh made moot before it was tried again, is found, not posted a
// second time (found by the soak).
func TestMootStatusCommentIsNotPostedTwice(t *testing.T) {
	h := newHarness(t)
	h.gh.lose["PostComment"] = 1
	out, err := h.eng.Commands.Canary(context.Background(), h.request("/canary", autoPlan))
	require.NoError(t, err)
	require.False(t, out.Refused, out.Reply)
	_, err = h.eng.Scheduler.RunDue(context.Background())
	require.ErrorContains(t, err, "connection reset")
	d := h.gh.last()
	require.NoError(t, h.eng.Events.HandleDeploymentStatus(context.Background(), event.DeploymentStatus{
		Repo: gh.Repo{Owner: "acme", Name: "models"}, DeploymentID: d.ID, Task: d.Task, Creator: "modelgate[bot]",
		Payload: mustJSON(t, d.Payload), State: "success", Sender: "github-actions[bot]"}), "a refresh queued behind it")
	h.clock.Add(time.Minute)
	h.drain()
	status := 0
	for _, b := range h.gh.bodies() {
		if strings.Contains(b, "<!-- modelgate:rollout=1:status -->") {
			status++
		}
	}
	assert.Equal(t, 1, status, "one status comment")
}
