package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The safe-operation scenarios (issue #9) run through signed webhooks
// against the fake GitHub, with zero OpenAPI violations.

// ask comments body on PR n as user and waits for the bot's reply to it.
func (rs *rolloutScenario) ask(n int, user, body string) string {
	rs.t.Helper()
	return rs.askWith(n, body, rs.comment(n, user, body))
}

// askWith delivers a comment payload and waits for the reply to body.
func (rs *rolloutScenario) askWith(n int, body string, payload map[string]any) string {
	rs.t.Helper()
	before := len(rs.replies(n))
	rs.delivery++
	rs.deliver("issue_comment", fmt.Sprintf("c-%d", rs.delivery), payload)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		rs.workflow()
		for _, r := range rs.replies(n)[before:] {
			if strings.HasPrefix(r, "> "+markdown.Text(body)) || strings.HasPrefix(r, "> "+body) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	rs.t.Fatalf("no reply to %q on #%d; replies:\n%s", body, n, strings.Join(rs.replies(n), "\n---\n"))
	return ""
}

func TestSafeOperationsLocks(t *testing.T) {
	rs := newRolloutScenario(t, false, healthy)
	rs.gh.SetPermission(repo, "rita", "read")
	rs.gh.SetPermission(repo, "alice", "maintain") // the default policy wants maintain for locks

	assert.Contains(t, rs.ask(3, "rita", `/lock production "freeze"`), "@rita needs write access", "a lock needs write access")
	assert.Contains(t, rs.ask(3, "alice", "/unlock production"), "`production` is not locked")

	locked := rs.ask(3, "alice", `/lock production "release freeze until Monday"`)
	assert.Contains(t, locked, "`production` is locked")
	canary := rs.ask(3, "alice", "/canary")
	assert.Contains(t, canary, "is locked by @alice since")
	assert.Contains(t, canary, "release freeze until Monday")
	assert.Empty(t, rs.tasks(), "a locked environment deploys nothing")

	dry := rs.ask(3, "alice", "/canary --dry-run")
	assert.Contains(t, dry, "⛔ lock on `production`: `production` is locked by @alice")

	assert.Contains(t, rs.ask(3, "alice", "/unlock production"), "`production` is unlocked")
	assert.Contains(t, rs.ask(3, "alice", "/canary"), "Canary of `fraud-detector` `3.2.0`")
	rs.untilPhase("analyzing", 30*time.Second)

	rs.ask(3, "alice", `/lock production "incident 7"`)
	rollback := rs.ask(3, "alice", "/rollback")
	assert.Contains(t, rollback, "rolled back", "a lock never stops a rollback")
	rs.until("rolled_back", 30*time.Second)
}

func TestSafeOperationsClosedPullRequestReleasesTheModel(t *testing.T) {
	rs := newRolloutScenario(t, false, healthy)
	rs.say("/canary")
	rs.untilPhase("analyzing", 30*time.Second)

	// #4 changes the same model; #3 holds it.
	pr4 := rs.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 4, Author: "alice",
		Files: []fakegithub.File{{Filename: "models/fraud/model.yaml"}}})
	rs.gh.SetFile(repo, pr4.HeadSHA, "models/fraud/model.yaml", []byte(fmt.Sprintf(rolloutManifest, "")))
	rs.gh.AddCheckRun(repo, pr4.HeadSHA, fakegithub.CheckRun{Name: "modelgate"})
	held := rs.ask(4, "alice", "/canary")
	assert.Contains(t, held, "is already rolling out in `production` from #3 (stage 1, 5 %")

	// #3 is merged: its rollout is released and says so.
	pr3 := rs.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 3, Author: "alice", State: "closed", Merged: true,
		Files: []fakegithub.File{{Filename: "models/fraud/model.yaml"}}})
	rs.delivery++
	rs.deliver("pull_request", fmt.Sprintf("p-%d", rs.delivery), rs.gh.PullRequestEvent(t, repo, pr3.Number, "closed"))
	rs.until("rolled_back", 30*time.Second)
	all := strings.Join(rs.replies(3), "\n")
	assert.Contains(t, all, markdown.Text("#3 was merged before the rollout finished"))

	assert.Contains(t, rs.ask(4, "alice", "/canary"), "Canary of `fraud-detector` `3.2.0`", "the model is free again")
}

func TestSafeOperationsPinnedCommit(t *testing.T) {
	rs := newRolloutScenario(t, false, healthy)
	// A push lands after the comment was written, before the bot read it.
	p := rs.comment(3, "alice", "/canary")
	written := time.Now().UTC().Add(-time.Minute)
	fakegithub.SetPath(p, "comment.created_at", written.Format(time.RFC3339))
	push := rs.gh.PullRequestEvent(t, repo, 3, "synchronize")
	fakegithub.SetPath(push, "pull_request.updated_at", written.Add(30*time.Second).Format(time.RFC3339))
	rs.deliver("pull_request", "push-1", push)
	require.Eventually(t, func() bool {
		moves, err := rs.srv.store.ListAudit(context.Background(), store.AuditFilter{Repo: repo, PR: 3})
		require.NoError(t, err)
		return len(moves) > 0
	}, 20*time.Second, 20*time.Millisecond, "the push is recorded")
	assert.Contains(t, rs.askWith(3, "/canary", p), "commits were pushed to #3 after this comment")
	assert.Empty(t, rs.tasks())

	again := rs.comment(3, "alice", "/canary")
	fakegithub.SetPath(again, "comment.created_at", time.Now().UTC().Format(time.RFC3339))
	assert.Contains(t, rs.askWith(3, "/canary", again), "Canary of", "a command written after the push goes ahead")
}

func TestSafeOperationsDraftAndNoModel(t *testing.T) {
	rs := newRolloutScenario(t, false, healthy)
	rs.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 5, Author: "alice", Draft: true,
		Files: []fakegithub.File{{Filename: "models/fraud/model.yaml"}}})
	pr5 := rs.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 5, Author: "alice", Draft: true,
		Files: []fakegithub.File{{Filename: "models/fraud/model.yaml"}}})
	rs.gh.SetFile(repo, pr5.HeadSHA, "models/fraud/model.yaml", []byte(fmt.Sprintf(rolloutManifest, "")))
	assert.Contains(t, rs.ask(5, "alice", "/canary"), "is a draft")

	rs.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 6, Author: "alice", Files: []fakegithub.File{{Filename: "README.md"}}})
	assert.Contains(t, rs.ask(6, "alice", "/canary --dry-run"), "#6 changes no model manifest, so there is nothing to roll out.")
	assert.Empty(t, rs.tasks())
}

func TestSafeOperationsDryRunAndStatus(t *testing.T) {
	rs := newRolloutScenario(t, false, healthy)
	dry := rs.ask(3, "alice", "/canary --dry-run")
	t.Logf("dry run reply:\n%s", dry)
	for _, want := range []string{"**Dry run: nothing was deployed and nothing changed.**", "| 1 | 5 % | 4s (2 looks) | auto |",
		"| `latency_p99` | increase | 25 % | yes: rolls back at once |", "✅ validation and draft", "✅ governance policies",
		"Every gate is open"} {
		assert.Contains(t, dry, want)
	}
	assert.Empty(t, rs.tasks(), "a dry run deploys nothing")

	rs.say("/canary")
	rs.until("promoted", 90*time.Second)
	status := rs.ask(3, "alice", "/status")
	t.Logf("status reply:\n%s", status)
	assert.Contains(t, status, "**Which version served where**")
	assert.Contains(t, status, "live: **3.2.0** since")
}
