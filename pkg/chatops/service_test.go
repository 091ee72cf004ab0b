package chatops

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memGitHub is an in-memory GitHub for the service's unit tests; the
// scenario tests in bot/ use the OpenAPI-checked fake instead.
type memGitHub struct {
	mu        sync.Mutex
	perms     map[string]string
	pr        gh.PullRequest
	prErr     error
	approvers []string
	files     map[string]string
	calls     []string
	reactions []string
	comments  []string
	failReply error
	// loseReply posts the next replies and answers with an error, as a
	// GitHub whose answer was lost.
	loseReply int
}

func (g *memGitHub) call(s string) { g.mu.Lock(); g.calls = append(g.calls, s); g.mu.Unlock() }

func (g *memGitHub) AddReaction(_ context.Context, _ gh.Repo, id int64, content string) error {
	g.call("react")
	g.reactions = append(g.reactions, content)
	return nil
}
func (g *memGitHub) PostComment(_ context.Context, _ gh.Repo, _ int, body string) (int64, error) {
	g.call("comment")
	if g.failReply != nil {
		return 0, g.failReply
	}
	g.comments = append(g.comments, body)
	if g.loseReply > 0 {
		g.loseReply--
		return 0, errors.New("github: 502 Bad Gateway")
	}
	return int64(len(g.comments)), nil
}

func (g *memGitHub) FindComment(_ context.Context, _ gh.Repo, _ int, marker string) (int64, error) {
	g.call("find")
	for i, c := range g.comments {
		if strings.Contains(c, marker) {
			return int64(i + 1), nil
		}
	}
	return 0, nil
}

func (g *memGitHub) CheckRuns(context.Context, gh.Repo, string) ([]gh.CheckRun, error) {
	g.call("checks")
	return nil, nil
}
func (g *memGitHub) Permission(_ context.Context, _ gh.Repo, login string) (string, error) {
	g.call("permission")
	p, ok := g.perms[login]
	if !ok {
		return "", gh.ErrNotFound
	}
	return p, nil
}
func (g *memGitHub) PullRequest(context.Context, gh.Repo, int) (gh.PullRequest, error) {
	g.call("pr")
	return g.pr, g.prErr
}
func (g *memGitHub) Approvers(context.Context, gh.Repo, int) ([]string, error) {
	g.call("reviews")
	return g.approvers, nil
}
func (g *memGitHub) ChangedFiles(context.Context, gh.Repo, int) ([]gh.ChangedFile, error) {
	g.call("files")
	// In a stable order, as GitHub lists them.
	var out []gh.ChangedFile
	for _, p := range slices.Sorted(maps.Keys(g.files)) {
		out = append(out, gh.ChangedFile{Path: p, Status: "modified"})
	}
	out = append(out, gh.ChangedFile{Path: "README.md", Status: "modified"})
	return out, nil
}
func (g *memGitHub) FileAt(_ context.Context, _ gh.Repo, p, ref string) ([]byte, error) {
	g.call("content")
	return []byte(g.files[p]), nil
}

type fakePolicy struct {
	inputs  []map[string]any
	reasons []string
	err     error
}

func (p *fakePolicy) Authorize(_ context.Context, in map[string]any) ([]string, error) {
	p.inputs = append(p.inputs, in)
	return p.reasons, p.err
}

const manifestYAML = `apiVersion: modelgate.dev/v1
kind: Model
metadata: {name: fraud, version: 3.2.0}
spec:
  governance: {risk_tier: high}
  rollout: {environment: production}
`

func newService(t *testing.T) (*Service, *store.SQLite, *fakePolicy) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"), store.SQLiteOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	pol := &fakePolicy{}
	return &Service{Store: st, Policy: pol, Rollouts: RecordOnly{Audit: st}, BotLogin: "modelgate[bot]"}, st, pol
}

func newGitHub() *memGitHub {
	return &memGitHub{
		perms: map[string]string{"alice": "write", "root": "admin", "rita": "read"},
		pr:    gh.PullRequest{Number: 7, Author: "bob", State: "open", HeadSHA: "abc123", HeadRepo: "octo/models", Labels: []string{"ml"}},
		files: map[string]string{"models/fraud/model.yaml": manifestYAML},
	}
}

var repo = gh.Repo{Owner: "octo", Name: "models"}

func event(id, user, body string) CommentEvent {
	return CommentEvent{DeliveryID: id, Action: "created", Repo: repo, Number: 7, IsPullRequest: true,
		CommentID: 99, Body: body, Commenter: user, CommenterType: "User"}
}

func TestHandleCommentOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		ev      func(CommentEvent) CommentEvent
		setup   func(*memGitHub, *fakePolicy)
		calls   string
		reply   string // substring; "" means no reply at all
		state   string
		refused bool
	}{
		{name: "help", ev: body("/help"), calls: "react permission comment", reply: "modelgate commands", state: "done"},
		{name: "not a command", ev: body("LGTM"), calls: ""},
		{name: "edited", ev: func(e CommentEvent) CommentEvent { e.Action = "edited"; e.Body = "/help"; return e }, calls: ""},
		{name: "deleted", ev: func(e CommentEvent) CommentEvent { e.Action = "deleted"; e.Body = "/help"; return e }, calls: ""},
		{name: "other bot", ev: func(e CommentEvent) CommentEvent {
			e.Commenter, e.CommenterType, e.Body = "dependabot[bot]", "Bot", "/canary"
			return e
		}, calls: ""},
		{name: "own comment", ev: func(e CommentEvent) CommentEvent {
			e.Commenter, e.CommenterType, e.Body = "modelgate[bot]", "Bot", "/help"
			return e
		}, calls: ""},
		{name: "issue not PR", ev: func(e CommentEvent) CommentEvent { e.IsPullRequest = false; e.Body = "/canary"; return e },
			calls: "react comment", reply: "work on pull requests", state: "refused"},
		{name: "unknown command", ev: body("/deploy"), calls: "react comment", reply: "unknown command /deploy", state: "refused"},
		{name: "usage error", ev: body("/abort now"), calls: "react comment", reply: "takes no arguments", state: "refused"},
		{name: "read access", ev: user("rita", "/canary"), calls: "react permission comment", reply: "@rita needs write access to octo/models to run `/canary` (has: read)", state: "refused"},
		{name: "no access (404)", ev: user("mallory", "/canary"), calls: "react permission comment", reply: "(has: none)", state: "refused"},
		{name: "status", ev: body("/status"), calls: "react permission comment", reply: "No rollout has been started", state: "done"},
		{name: "canary authorized", ev: body("/canary"), calls: "react permission pr content files content reviews comment",
			reply: "`/canary` for fraud is authorized and recorded, but the rollout engine is not enabled", state: "done"},
		{name: "policy refuses", ev: body("/promote"), setup: func(_ *memGitHub, p *fakePolicy) {
			p.reasons = []string{"a high-risk model needs 2 approvals before it leaves 5 % (has 0)"}
		}, calls: "react permission pr content files content reviews comment", reply: "- a high-risk model needs 2 approvals", state: "refused"},
		{name: "fork goes to the engine, which reads the repository's configuration", ev: body("/canary"),
			setup: func(g *memGitHub, _ *fakePolicy) { g.pr.HeadRepo = "evil/models" },
			calls: "react permission pr content files content reviews comment", reply: "authorized and recorded", state: "done"},
		{name: "closed PR", ev: body("/canary"), setup: func(g *memGitHub, _ *fakePolicy) { g.pr.State = "closed" },
			calls: "react permission pr comment", reply: "#7 is closed", state: "refused"},
		{name: "PR gone", ev: body("/canary"), setup: func(g *memGitHub, _ *fakePolicy) { g.prErr = gh.ErrNotFound },
			calls: "react permission pr comment", reply: "was not found", state: "refused"},
		{name: "unknown model", ev: body("/canary churn"), calls: "react permission pr content files content comment",
			reply: "changes no manifest of model `churn` (it changes: fraud)", state: "refused"},
		{name: "no manifest", ev: body("/canary"), setup: func(g *memGitHub, _ *fakePolicy) { g.files = nil },
			calls: "react permission pr content files comment", reply: "changes no model manifest", state: "refused"},
		{name: "lock needs no manifest", ev: body(`/lock production "freeze"`), calls: "react permission pr reviews comment",
			reply: "`/lock` is authorized", state: "done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, st, pol := newService(t)
			fake := newGitHub()
			if tt.setup != nil {
				tt.setup(fake, pol)
			}
			ev := tt.ev(event("d-"+tt.name, "alice", ""))
			require.NoError(t, svc.HandleComment(context.Background(), fake, ev))
			assert.Equal(t, tt.calls, strings.Join(fake.calls, " "))
			cmds, err := st.ListCommands(context.Background(), "octo/models", 7, 0)
			require.NoError(t, err)
			if tt.reply == "" {
				assert.Empty(t, fake.comments)
				assert.Empty(t, cmds)
				return
			}
			require.Len(t, fake.comments, 1)
			assert.Contains(t, fake.comments[0], tt.reply)
			assert.Equal(t, []string{"eyes"}, fake.reactions)
			require.Len(t, cmds, 1)
			assert.Equal(t, tt.state, cmds[0].State)
			audit, err := st.ListAudit(context.Background(), store.AuditFilter{Repo: "octo/models"})
			require.NoError(t, err)
			require.NotEmpty(t, audit)
			last := audit[len(audit)-1]
			assert.Equal(t, tt.state, last.Decision)
			assert.Equal(t, ev.Commenter, last.Actor)
		})
	}
}

func body(b string) func(CommentEvent) CommentEvent {
	return func(e CommentEvent) CommentEvent { e.Body = b; return e }
}

func user(login, b string) func(CommentEvent) CommentEvent {
	return func(e CommentEvent) CommentEvent { e.Commenter, e.Body = login, b; return e }
}

func TestPolicyInput(t *testing.T) {
	svc, st, pol := newService(t)
	fake := newGitHub()
	fake.approvers = []string{"carol"}
	_, err := st.CreateRollout(context.Background(), store.Rollout{Repo: "octo/models", PR: 7, Model: "fraud", Version: "3.2.0",
		Environment: "production", HeadSHA: "abc123", State: "running", Stage: 1, TrafficPercent: 25, StartedBy: "alice"})
	require.NoError(t, err)
	require.NoError(t, svc.HandleComment(context.Background(), fake, event("d1", "root", "/promote fraud")))
	require.Len(t, pol.inputs, 1)
	in := pol.inputs[0]
	assert.Equal(t, map[string]any{"name": "promote", "args": []any{"fraud"}, "model": "fraud", "environment": "production",
		"dry_run": false, "reason": ""}, in["command"])
	assert.Equal(t, map[string]any{"login": "root", "permission": "admin"}, in["commenter"])
	assert.Equal(t, map[string]any{"number": 7, "author": "bob", "labels": []any{"ml"}, "approvals": 1,
		"approvers": []any{"carol"}, "draft": false, "head_sha": "abc123"}, in["pull_request"])
	ro := in["rollout"].(map[string]any)
	assert.Equal(t, 1, ro["stage"])
	assert.Equal(t, 25, ro["traffic_percent"])
	assert.Equal(t, "high", dig(in["manifest"].(map[string]any), "spec", "governance", "risk_tier"))
}

func TestHandleCommentRedeliveryRunsOnce(t *testing.T) {
	svc, _, _ := newService(t)
	fake := newGitHub()
	ev := event("same", "alice", "/help")
	require.NoError(t, svc.HandleComment(context.Background(), fake, ev))
	require.NoError(t, svc.HandleComment(context.Background(), fake, ev))
	assert.Len(t, fake.comments, 1)
}

func TestHandleCommentTransientFailuresAreRetried(t *testing.T) {
	svc, st, pol := newService(t)
	fake := newGitHub()
	fake.failReply = errors.New("github: 502")
	ev := event("d", "alice", "/help")
	err := svc.HandleComment(context.Background(), fake, ev)
	assert.ErrorContains(t, err, "reply: github: 502")

	fake.failReply = nil
	require.NoError(t, svc.HandleComment(context.Background(), fake, ev), "the retry runs the command")
	assert.Len(t, fake.comments, 1)
	cmds, _ := st.ListCommands(context.Background(), "octo/models", 7, 0)
	assert.Equal(t, "done", cmds[0].State)

	pol.err = fmt.Errorf("policy bundle broken")
	err = svc.HandleComment(context.Background(), fake, event("d2", "alice", "/canary"))
	assert.ErrorContains(t, err, "authorize /canary: policy bundle broken")
}

// A reply that reached GitHub though its answer was lost, or whose
// process died before it stored the outcome, is not posted again when
// the delivery is tried again.
func TestHandleCommentRepliesOnceWhenAnAnswerIsLost(t *testing.T) {
	svc, st, _ := newService(t)
	fake := newGitHub()
	fake.loseReply = 1
	ev := event("d", "alice", "/help")
	require.Error(t, svc.HandleComment(context.Background(), fake, ev))
	require.NoError(t, svc.HandleComment(context.Background(), fake, ev), "the retry finds the reply")
	assert.Len(t, fake.comments, 1, "one reply")
	assert.Contains(t, fake.comments[0], "<!-- modelgate:command=1:reply -->")
	cmds, _ := st.ListCommands(context.Background(), "octo/models", 7, 0)
	assert.Equal(t, "done", cmds[0].State)

	require.NoError(t, svc.HandleComment(context.Background(), fake, event("d2", "alice", "/help")))
	assert.Len(t, fake.comments, 2, "a new command is answered")
	assert.NotContains(t, fake.calls[len(fake.calls)-2:], "find", "a first attempt looks for nothing")
}

func TestHandleCommentReplyToVanishedPR(t *testing.T) {
	svc, _, _ := newService(t)
	fake := newGitHub()
	fake.failReply = gh.ErrNotFound
	assert.NoError(t, svc.HandleComment(context.Background(), fake, event("d", "alice", "/help")))
}

func TestSeveralModels(t *testing.T) {
	svc, _, pol := newService(t)
	fake := newGitHub()
	fake.files["models/churn/model.yaml"] = strings.ReplaceAll(manifestYAML, "fraud", "churn")
	require.NoError(t, svc.HandleComment(context.Background(), fake, event("d1", "alice", "/promote")))
	assert.Contains(t, fake.comments[0], "changes several models")
	require.NoError(t, svc.HandleComment(context.Background(), fake, event("d2", "alice", "/canary")))
	assert.Contains(t, fake.comments[1], "is authorized")
	assert.Len(t, pol.inputs, 2, "one policy decision per model")
}

// The bot finds manifests as the action does: with the repository's own
// glob from the default branch's configuration, decoded by pkg/manifest.
func TestTargetsFollowTheRepositorysGlob(t *testing.T) {
	const jsonManifest = `{"apiVersion": "modelgate.dev/v1", "kind": "Model", "metadata": {"name": "ranker", "version": "1.2.0"},
		"spec": {"rollout": {"environment": "staging"}}}`
	tests := []struct {
		name   string
		config string
		files  map[string]string
		reply  string
	}{
		{"default glob", "", map[string]string{"models/fraud/model.yaml": manifestYAML, "ml/ranker.json": jsonManifest},
			"for fraud is authorized"},
		{"configured glob", "manifests: 'ml/*.json'\n", map[string]string{"models/fraud/model.yaml": manifestYAML, "ml/ranker.json": jsonManifest},
			"for ranker is authorized"},
		{"invalid glob", "manifests: 'ml/[*.json'\n", map[string]string{"ml/ranker.json": jsonManifest},
			"is not a valid glob"},
		{"a broken configuration leaves the default glob", "manifests: [\n", map[string]string{"models/fraud/model.yaml": manifestYAML},
			"for fraud is authorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _, pol := newService(t)
			fake := newGitHub()
			fake.files = tt.files
			fake.files[".github/modelgate.yml"] = tt.config
			require.NoError(t, svc.HandleComment(context.Background(), fake, event("d", "alice", "/canary")))
			require.Len(t, fake.comments, 1)
			assert.Contains(t, fake.comments[0], tt.reply)
			if strings.Contains(tt.reply, "ranker") {
				require.Len(t, pol.inputs, 1)
				assert.Equal(t, "staging", pol.inputs[0]["command"].(map[string]any)["environment"])
			}
		})
	}
}

// dyingStore fails the first write named by failOn, as a process killed
// just before it would leave the store.
type dyingStore struct {
	*store.SQLite
	failOn string
}

func (s *dyingStore) fail(name string) error {
	if s.failOn != name {
		return nil
	}
	s.failOn = ""
	return errors.New("killed before " + name)
}

func (s *dyingStore) UpdateCommand(ctx context.Context, id int64, state, outcome string, apiCalls int) error {
	if err := s.fail("update"); err != nil {
		return err
	}
	return s.SQLite.UpdateCommand(ctx, id, state, outcome, apiCalls)
}

func (s *dyingStore) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	if err := s.fail("audit"); err != nil {
		return 0, err
	}
	return s.SQLite.AppendAudit(ctx, e)
}

// A command whose attempt died between its reply and its last write
// ends, when the delivery is tried again, done with one audit entry: the
// soak found a command done without its entry.
func TestHandleCommentAuditsOnceThroughADeath(t *testing.T) {
	for _, failOn := range []string{"audit", "update"} {
		t.Run("killed before the "+failOn, func(t *testing.T) {
			svc, st, _ := newService(t)
			svc.Store = &dyingStore{SQLite: st, failOn: failOn}
			fake := newGitHub()
			ev := event("d", "alice", "/help")
			require.ErrorContains(t, svc.HandleComment(context.Background(), fake, ev), "killed before "+failOn)
			require.NoError(t, svc.HandleComment(context.Background(), fake, ev), "the retry")

			assert.Len(t, fake.comments, 1, "one reply")
			cmds, err := st.ListCommands(context.Background(), "octo/models", 7, 0)
			require.NoError(t, err)
			assert.Equal(t, "done", cmds[0].State)
			entries, err := st.ListAudit(context.Background(), store.AuditFilter{Repo: "octo/models", PR: 7})
			require.NoError(t, err)
			var help []store.AuditEntry
			for _, e := range entries {
				if e.Action == store.CommandAction("help") {
					help = append(help, e)
				}
			}
			assert.Len(t, help, 1, "one audit entry of the command")
		})
	}
}
