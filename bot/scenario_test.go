package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/githubapp"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	secret = "it's a secret to everybody"
	repo   = "Codertocat/Hello-World" // the repository of the webhook examples
	token  = "POST /app/installations/1/access_tokens"
)

const manifestYAML = `apiVersion: modelgate.dev/v1
kind: Model
metadata: {name: fraud-detector, version: 3.2.0, owner: risk-ml@example.com}
spec:
  framework: pytorch
  governance: {risk_tier: high}
  rollout:
    environment: production
    stages: [{traffic: 5, analysis: 30m}, {traffic: 100}]
`

// scenario is the bot wired as `bot serve` wires it, in front of the fake
// GitHub, driven through HTTP.
type scenario struct {
	t     *testing.T
	gh    *fakegithub.Server
	srv   *server
	http  *httptest.Server
	db    string
	mu    sync.Mutex
	waits []time.Duration
	// configure changes the bot's configuration at each start.
	configure func(*serveConfig)
}

func newScenario(t *testing.T, configure ...func(*serveConfig)) *scenario {
	t.Helper()
	s := fakeScenario(t)
	if len(configure) > 0 {
		s.configure = configure[0]
	}
	s.start()
	return s
}

// fakeScenario is the fake GitHub with pull request 1, which alice may
// write to and rita read, before any bot starts.
func fakeScenario(t *testing.T) *scenario {
	s := &scenario{t: t, gh: fakegithub.New(t), db: filepath.Join(t.TempDir(), "bot.db")}
	s.gh.SetPermission(repo, "alice", "write")
	s.gh.SetPermission(repo, "rita", "read")
	pr := s.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 1, Author: "alice",
		Files: []fakegithub.File{{Filename: "models/fraud/model.yaml"}, {Filename: "README.md"}}})
	s.gh.SetFile(repo, pr.HeadSHA, "models/fraud/model.yaml", []byte(manifestYAML))
	return s
}

// start (re)starts the bot on the scenario's database.
func (s *scenario) start() {
	s.srv, s.http = s.spawn()
}

// spawn starts one bot process on the scenario's configuration; replicas
// are several spawns on one PostgreSQL database.
func (s *scenario) spawn() (*server, *httptest.Server) {
	cfg := serveConfig{
		AppID: fakegithub.AppID, PrivateKey: string(s.gh.AppPrivateKeyPEM()), WebhookSecret: secret,
		GitHubURL: s.gh.URL(), DB: s.db, BotLogin: fakegithub.BotLogin(), Workers: 1, MaxBody: githubapp.DefaultMaxBody,
		retry: githubapp.RetryTransport{BaseDelay: time.Millisecond, MaxWait: 2 * time.Minute,
			Sleep: func(_ context.Context, d time.Duration) error {
				s.mu.Lock()
				s.waits = append(s.waits, d)
				s.mu.Unlock()
				return nil
			}},
	}
	if s.configure != nil {
		s.configure(&cfg)
	}
	log := slog.New(slog.NewTextHandler(testWriter{s.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := newServer(context.Background(), cfg, log, prometheus.NewRegistry())
	require.NoError(s.t, err)
	h := httptest.NewServer(srv.Handler())
	s.t.Cleanup(func() { h.Close(); srv.Close() })
	return srv, h
}

func (s *scenario) stop() {
	s.http.Close()
	require.NoError(s.t, s.srv.Close())
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// comment posts a comment on pull request n in the fake and returns the
// issue_comment.created payload GitHub would send for it.
func (s *scenario) comment(n int, user, body string) map[string]any {
	p := s.issueComment(n, user, body)
	fakegithub.SetPath(p, "issue.pull_request", map[string]any{
		"url": fmt.Sprintf("https://api.github.com/repos/%s/pulls/%d", repo, n)})
	return p
}

// issueComment is comment on an issue (no pull_request in the payload).
func (s *scenario) issueComment(n int, user, body string) map[string]any {
	c := s.gh.AddComment(repo, n, user, body)
	p := fakegithub.LoadWebhook(s.t, "issue_comment.created")
	fakegithub.SetPath(p, "comment.id", c.ID)
	fakegithub.SetPath(p, "comment.body", body)
	fakegithub.SetPath(p, "comment.user.login", user)
	fakegithub.SetPath(p, "sender.login", user)
	fakegithub.SetPath(p, "issue.number", n)
	return p
}

// deliver posts a signed delivery and returns the status and body.
func (s *scenario) deliver(event, id string, payload any) (int, string) {
	s.t.Helper()
	req := fakegithub.SignedRequest(s.t, s.http.URL+"/webhook", secret, event, id, payload)
	return s.send(req)
}

func (s *scenario) send(req *http.Request) (int, string) {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// work runs the workers until the queue has nothing due; deliveries that
// fail are retried later, as the tests check.
func (s *scenario) work() {
	s.t.Helper()
	for range 20 {
		n, err := s.srv.worker.RunOnce(context.Background())
		if err != nil {
			s.t.Log("work:", err)
		}
		if n == 0 {
			return
		}
	}
}

var (
	commentID = regexp.MustCompile(`/comments/[0-9]+/`)
	commitSHA = regexp.MustCompile(`\b[0-9a-f]{40}\b`)
)

// calls lists the API requests made, as "METHOD /path", comment ids as
// {id} and commit hashes as {sha}.
func (s *scenario) calls() []string {
	var out []string
	for _, r := range s.gh.Requests() {
		path := commitSHA.ReplaceAllString(commentID.ReplaceAllString(r.Path, "/comments/{id}/"), "{sha}")
		out = append(out, r.Method+" "+path)
	}
	return out
}

// replyCount counts the bot's comments on n.
func (s *scenario) replies(n int) []string {
	var out []string
	for _, c := range s.gh.Comments(repo, n) {
		if c.User == fakegithub.BotLogin() {
			out = append(out, c.Body)
		}
	}
	return out
}

func (s *scenario) delivery(id string) queue.Job {
	d, err := s.srv.store.Queue().Get(context.Background(), githubapp.DeliveryQueue, id)
	require.NoError(s.t, err)
	return d
}

func (s *scenario) stats() queue.Stats {
	st, err := s.srv.store.Queue().Stats(context.Background(), githubapp.DeliveryQueue)
	require.NoError(s.t, err)
	return st
}

var (
	react      = "POST /repos/" + repo + "/issues/comments/{id}/reactions"
	permission = func(u string) string { return "GET /repos/" + repo + "/collaborators/" + u + "/permission" }
	reply      = func(n int) string { return fmt.Sprintf("POST /repos/%s/issues/%d/comments", repo, n) }
	getPull    = "GET /repos/" + repo + "/pulls/1"
	listFiles  = "GET /repos/" + repo + "/pulls/1/files"
	getContent = "GET /repos/" + repo + "/contents/models/fraud/model.yaml"
	reviews    = "GET /repos/" + repo + "/pulls/1/reviews"
	checkRuns  = "GET /repos/" + repo + "/commits/{sha}/check-runs"
	getConfig  = "GET /repos/" + repo + "/contents/.github/modelgate.yml"
)

func TestScenarioCommands(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*scenario)
		event string
		load  func(s *scenario) map[string]any
		calls []string
		reply string // substring of the one reply; "" for none
		state string // the command's final state; "" for no command
	}{
		{name: "help", load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/help") },
			calls: []string{token, react, permission("alice"), reply(1)}, reply: "modelgate commands", state: "done"},
		{name: "canary authorized, validation not run", load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/canary") },
			calls: []string{token, react, permission("alice"), getPull, getConfig, listFiles, getContent, reviews, checkRuns, reply(1)},
			reply: "no check run named like `modelgate` has run on", state: "refused"},
		{name: "no write access", load: func(s *scenario) map[string]any { return s.comment(1, "rita", "/promote") },
			calls: []string{token, react, permission("rita"), reply(1)}, reply: "@rita needs write access", state: "refused"},
		{name: "fork author without access", setup: func(s *scenario) {
			s.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 2, Author: "forker", HeadRepo: "forker/Hello-World"})
		}, load: func(s *scenario) map[string]any { return s.comment(2, "forker", "/canary") },
			calls: []string{token, react, permission("forker"), reply(2)}, reply: "@forker needs write access", state: "refused"},
		{name: "writer on a fork's PR", setup: func(s *scenario) {
			pr := s.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 2, Author: "forker", HeadRepo: "forker/Hello-World",
				Files: []fakegithub.File{{Filename: "models/fraud/model.yaml"}}})
			s.gh.SetFile(repo, pr.HeadSHA, "models/fraud/model.yaml", []byte(manifestYAML))
		}, load: func(s *scenario) map[string]any { return s.comment(2, "alice", "/canary") },
			calls: []string{token, react, permission("alice"), "GET /repos/" + repo + "/pulls/2", getConfig,
				"GET /repos/" + repo + "/pulls/2/files", "GET /repos/" + repo + "/contents/models/fraud/model.yaml",
				"GET /repos/" + repo + "/pulls/2/reviews", reply(2)},
			reply: "comes from the fork `forker/Hello-World`; modelgate deploys forks only where", state: "refused"},
		{name: "other bot", load: func(s *scenario) map[string]any {
			p := s.comment(1, "dependabot[bot]", "/canary")
			fakegithub.SetPath(p, "comment.user.type", "Bot")
			return p
		}},
		{name: "own comment", load: func(s *scenario) map[string]any {
			p := s.comment(1, fakegithub.BotLogin(), "/help")
			fakegithub.SetPath(p, "comment.user.type", "Bot")
			return p
		}},
		{name: "edited comment", load: func(s *scenario) map[string]any {
			p := fakegithub.LoadWebhook(s.t, "issue_comment.edited")
			fakegithub.SetPath(p, "comment.body", "/canary")
			return p
		}},
		{name: "deleted comment", load: func(s *scenario) map[string]any {
			p := fakegithub.LoadWebhook(s.t, "issue_comment.deleted")
			fakegithub.SetPath(p, "comment.body", "/canary")
			return p
		}},
		{name: "not a command", load: func(s *scenario) map[string]any { return s.comment(1, "alice", "LGTM, ship it") }},
		{name: "command on an issue", setup: func(s *scenario) { s.gh.AddIssue(repo, fakegithub.Issue{Number: 2}) },
			load:  func(s *scenario) map[string]any { return s.issueComment(2, "alice", "/canary") },
			calls: []string{token, react, reply(2)}, reply: "work on pull requests; #2 is an issue", state: "refused"},
		{name: "unknown command", load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/deploy now") },
			calls: []string{token, react, reply(1)}, reply: "unknown command /deploy", state: "refused"},
		{name: "status", load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/status") },
			calls: []string{token, react, permission("alice"), reply(1)}, reply: "No rollout has been started", state: "done"},
		{name: "500 on permission is retried", setup: func(s *scenario) {
			s.gh.FailNext("GET", "/repos/*/*/collaborators/*/permission", 1, fakegithub.ServerError)
		}, load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/help") },
			calls: []string{token, react, permission("alice"), permission("alice"), reply(1)}, reply: "modelgate commands", state: "done"},
		{name: "502 on a read is retried", setup: func(s *scenario) {
			s.gh.FailNext("GET", "/repos/*/*/collaborators/*/permission", 2, fakegithub.BadGateway)
		}, load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/help") },
			calls: []string{token, react, permission("alice"), permission("alice"), permission("alice"), reply(1)}, reply: "modelgate commands", state: "done"},
		{name: "primary rate limit waits for the reset", setup: func(s *scenario) {
			s.gh.FailNext("GET", "/repos/*/*/collaborators/*/permission", 1, fakegithub.RateLimited)
		}, load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/help") },
			calls: []string{token, react, permission("alice"), permission("alice"), reply(1)}, reply: "modelgate commands", state: "done"},
		{name: "secondary rate limit waits Retry-After", setup: func(s *scenario) {
			s.gh.FailNext("POST", "/repos/*/*/issues/comments/*/reactions", 1, fakegithub.SecondaryRateLimited)
		}, load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/help") },
			calls: []string{token, react, react, permission("alice"), reply(1)}, reply: "modelgate commands", state: "done"},
		{name: "404 on the pull request", setup: func(s *scenario) {
			s.gh.FailNext("GET", "/repos/*/*/pulls/1", 1, fakegithub.NotFound)
		}, load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/canary") },
			calls: []string{token, react, permission("alice"), getPull, reply(1)}, reply: "pull request #1 was not found", state: "refused"},
		{name: "404 on the reaction (comment deleted meanwhile)", setup: func(s *scenario) {
			s.gh.FailNext("POST", "/repos/*/*/issues/comments/*/reactions", 1, fakegithub.NotFound)
		}, load: func(s *scenario) map[string]any { return s.comment(1, "alice", "/help") },
			calls: []string{token, react, permission("alice"), reply(1)}, reply: "modelgate commands", state: "done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScenario(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			code, body := s.deliver("issue_comment", "d-1", tt.load(s))
			require.Equal(t, http.StatusAccepted, code, body)
			s.work()
			assert.Equal(t, tt.calls, s.calls())
			assert.Equal(t, queue.Done, s.delivery("d-1").State)
			cmds, err := s.srv.store.ListCommands(context.Background(), repo, 1, 0)
			require.NoError(t, err)
			cmds2, err := s.srv.store.ListCommands(context.Background(), repo, 2, 0)
			require.NoError(t, err)
			cmds = append(cmds, cmds2...)
			if tt.reply == "" {
				assert.Empty(t, cmds)
				return
			}
			var all []string
			for _, n := range []int{1, 2} {
				all = append(all, s.replies(n)...)
			}
			require.Len(t, all, 1)
			assert.Contains(t, all[0], tt.reply)
			require.Len(t, cmds, 1)
			assert.Equal(t, tt.state, cmds[0].State)
			assert.Equal(t, len(tt.calls), cmds[0].APICalls, "API calls counted for the command")
		})
	}
}

func TestScenarioReactionIsEyes(t *testing.T) {
	s := newScenario(t)
	p := s.comment(1, "alice", "/help")
	s.deliver("issue_comment", "d-1", p)
	s.work()
	rs := s.gh.Reactions(repo, fakegithub.GetPath(p, "comment.id").(int64))
	require.Len(t, rs, 1)
	assert.Equal(t, "eyes", rs[0].Content)
	assert.Equal(t, fakegithub.BotLogin(), rs[0].User)
}

func TestScenarioRateLimitWaits(t *testing.T) {
	s := newScenario(t)
	s.gh.FailNext("GET", "/repos/*/*/collaborators/*/permission", 1, fakegithub.RateLimited)
	s.gh.FailNext("POST", "/repos/*/*/issues/*/comments", 1, fakegithub.SecondaryRateLimited)
	s.deliver("issue_comment", "d-1", s.comment(1, "alice", "/help"))
	s.work()
	var long []time.Duration
	for _, w := range s.waits {
		if w >= time.Second {
			long = append(long, w.Round(time.Second))
		}
	}
	require.Len(t, long, 2)
	assert.InDelta(t, 2.5, long[0].Seconds(), 1.5, "x-ratelimit-reset is 2 s away (whole seconds), plus a second")
	assert.Equal(t, time.Second, long[1], "Retry-After: 1")
}

func TestScenarioPersistentFailureIsRetriedLater(t *testing.T) {
	s := newScenario(t)
	s.gh.FailNext("GET", "/repos/*/*/collaborators/*/permission", 10, fakegithub.ServerError)
	s.deliver("issue_comment", "d-1", s.comment(1, "alice", "/help"))
	s.work()
	d := s.delivery("d-1")
	assert.Equal(t, queue.Pending, d.State)
	assert.Contains(t, d.LastError, "500")
	assert.Empty(t, s.replies(1))
}

func TestScenarioBadDeliveries(t *testing.T) {
	s := newScenario(t)
	good := s.comment(1, "alice", "/help")
	body, _ := json.Marshal(good)

	unsigned := fakegithub.SignedRequest(t, s.http.URL+"/webhook", secret, "issue_comment", "d-unsigned", good)
	unsigned.Header.Del("X-Hub-Signature-256")
	wrong := fakegithub.SignedRequest(t, s.http.URL+"/webhook", "guess", "issue_comment", "d-wrong", good)
	tampered := fakegithub.SignedRequest(t, s.http.URL+"/webhook", secret, "issue_comment", "d-tampered", good)
	forged := bytes.Replace(body, []byte("/help"), []byte("/canary"), 1)
	tampered.Body, tampered.ContentLength = io.NopCloser(bytes.NewReader(forged)), int64(len(forged))
	huge := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), 30<<20)...)
	huge = append(huge, []byte(`"}`)...)

	tests := []struct {
		name   string
		req    *http.Request
		status int
		body   string
	}{
		{"missing signature", unsigned, 401, "missing X-Hub-Signature-256"},
		{"wrong secret", wrong, 401, "does not match"},
		{"tampered body", tampered, 401, "does not match"},
		{"30 MB body", fakegithub.SignedRequest(t, s.http.URL+"/webhook", secret, "issue_comment", "d-huge", huge), 413, "over the 26214400-byte limit"},
		{"malformed JSON", fakegithub.SignedRequest(t, s.http.URL+"/webhook", secret, "issue_comment", "d-bad", []byte(`{"action":`)), 400, "malformed JSON"},
		{"unhandled event", fakegithub.SignedRequest(t, s.http.URL+"/webhook", secret, "star", "d-star", fakegithub.LoadWebhook(t, "star.created")), 202, "ignored: event star is not handled"},
		{"ping", fakegithub.SignedRequest(t, s.http.URL+"/webhook", secret, "ping", "d-ping", fakegithub.LoadWebhook(t, "ping")), 200, "pong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := s.send(tt.req)
			assert.Equal(t, tt.status, code)
			assert.Contains(t, got, tt.body)
		})
	}
	s.work()
	assert.Zero(t, s.stats().Total, "nothing stored")
	assert.Empty(t, s.calls(), "nothing done")
}

func TestScenarioReplayedDeliveryIsProcessedOnce(t *testing.T) {
	s := newScenario(t)
	p := s.comment(1, "alice", "/help")
	code, _ := s.deliver("issue_comment", "d-1", p)
	assert.Equal(t, http.StatusAccepted, code)
	code, body := s.deliver("issue_comment", "d-1", p)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "duplicate delivery d-1")
	s.work()
	// GitHub redelivers after the bot already handled it.
	code, _ = s.deliver("issue_comment", "d-1", p)
	assert.Equal(t, http.StatusOK, code)
	s.work()
	assert.Len(t, s.replies(1), 1)
	assert.Equal(t, 1, s.delivery("d-1").Completions)
}

func TestScenarioRestartLosesNothing(t *testing.T) {
	s := newScenario(t)
	code, _ := s.deliver("issue_comment", "d-1", s.comment(1, "alice", "/help"))
	require.Equal(t, http.StatusAccepted, code)
	s.stop() // "crash" after the ack, before any worker ran
	s.start()
	s.work()
	assert.Len(t, s.replies(1), 1)
	assert.Equal(t, queue.Done, s.delivery("d-1").State)
}

type refusingPolicy struct{ inputs []map[string]any }

func (p *refusingPolicy) Authorize(_ context.Context, in map[string]any) ([]string, error) {
	p.inputs = append(p.inputs, in)
	pr := in["pull_request"].(map[string]any)
	if pr["approvals"].(int) < 2 {
		return []string{fmt.Sprintf("a high-risk model needs 2 approvals before it leaves 5 %% (has %d)", pr["approvals"])}, nil
	}
	return nil, nil
}

func TestScenarioPolicyDecides(t *testing.T) {
	s := newScenario(t)
	pol := &refusingPolicy{}
	s.srv.commands.Policy = pol
	s.gh.AddReview(repo, 1, fakegithub.Review{User: "carol", State: "APPROVED"})
	s.deliver("issue_comment", "d-1", s.comment(1, "alice", "/promote"))
	s.work()
	require.Len(t, s.replies(1), 1)
	assert.Contains(t, s.replies(1)[0], "The governance policies refuse `/promote`:\n- a high-risk model needs 2 approvals before it leaves 5 % \\(has 1\\)")

	s.gh.AddReview(repo, 1, fakegithub.Review{User: "dave", State: "APPROVED"})
	s.deliver("issue_comment", "d-2", s.comment(1, "alice", "/promote"))
	s.work()
	require.Len(t, s.replies(1), 2)
	assert.Contains(t, s.replies(1)[1], "No rollout of this pull request is running, so there is nothing to promote.")
	require.Len(t, pol.inputs, 2)
	assert.Equal(t, "fraud-detector", pol.inputs[1]["command"].(map[string]any)["model"])

	audit, err := s.srv.store.ListAudit(context.Background(), store.AuditFilter{Repo: repo})
	require.NoError(t, err)
	var decisions []string
	for _, e := range audit {
		decisions = append(decisions, e.Action+" "+e.Decision+" by "+e.Actor)
	}
	assert.Equal(t, []string{"command.promote refused by alice", "command.promote refused by alice"}, decisions,
		"the policy let the second through; the engine refused it")
}

func TestScenarioEndpoints(t *testing.T) {
	s := newScenario(t)
	s.deliver("issue_comment", "d-1", s.comment(1, "alice", "/help"))
	s.work()
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": `modelgate_webhook_deliveries_total{code="202",outcome="queued"} 1`,
	} {
		resp, err := http.Get(s.http.URL + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, path)
		assert.Contains(t, string(b), want, path)
	}
	resp, err := http.Get(s.http.URL + "/metrics")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(b), `modelgate_github_requests_total{code="201",method="POST"}`)
	assert.Contains(t, string(b), `modelgate_deliveries_processed_total{event="issue_comment",result="done"} 1`)
}

func TestScenarioWorkersRunning(t *testing.T) {
	s := newScenario(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.srv.worker.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	require.Eventually(t, func() bool {
		// Deliveries sent before Run starts go through the claim path; after, in memory.
		code, _ := s.deliver("issue_comment", fmt.Sprint("d-", time.Now().UnixNano()), s.comment(1, "alice", "/help"))
		return code == http.StatusAccepted && len(s.replies(1)) > 0
	}, 10*time.Second, 50*time.Millisecond)
	code, _ := s.deliver("issue_comment", "d-last", s.comment(1, "alice", "/status"))
	require.Equal(t, http.StatusAccepted, code)
	require.Eventually(t, func() bool { return s.delivery("d-last").State == queue.Done }, 10*time.Second, 10*time.Millisecond)
	assert.Contains(t, s.replies(1)[len(s.replies(1))-1], "No rollout has been started")
	assert.Zero(t, s.stats().CompletedTwice)
}

// TestScenarioDefaultAuthorization runs the bot's own embedded authz rules
// (no fake policy): a /canary from a draft pull request is refused with the
// rule's reason.
func TestScenarioDefaultAuthorization(t *testing.T) {
	s := newScenario(t)
	require.NotNil(t, s.srv.commands.Policy, "the server loads the default bundle's authz rules")
	pr := s.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: 3, Author: "alice", Draft: true,
		Files: []fakegithub.File{{Filename: "models/fraud/model.yaml"}}})
	s.gh.SetFile(repo, pr.HeadSHA, "models/fraud/model.yaml", []byte(manifestYAML))
	s.deliver("issue_comment", "d-draft", s.comment(3, "alice", "/canary"))
	s.work()
	require.Len(t, s.replies(3), 1)
	assert.Contains(t, s.replies(3)[0], "the pull request is a draft; mark it ready for review first")
}
