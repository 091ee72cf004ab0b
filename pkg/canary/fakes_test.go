package canary_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/canary/effect"
	"github.com/modelgate/modelgate/pkg/canary/engine"
	"github.com/modelgate/modelgate/pkg/canary/event"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/store"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// fakeGitHub is an in-memory GitHub for one repository. lose makes the
// next write succeed on GitHub but fail on the way back, as a dropped
// connection would.
type fakeGitHub struct {
	// GitHub answers the calls of a command's request this fake does not
	// take itself: none of the engine's.
	chatops.GitHub
	mu          sync.Mutex
	next        int64
	deployments []fakeDeployment
	statuses    map[int64][]string
	// descriptions are the statuses' descriptions, as statuses.
	descriptions map[int64][]string
	comments     []*fakeComment
	checks       []gh.CheckRun
	lose         map[string]int // method -> answers to lose
	reject       error
	writes       int
}

type fakeDeployment struct {
	ID int64
	gh.Deployment
}

type fakeComment struct {
	ID   int64
	PR   int
	Body string
}

func newFakeGitHub() *fakeGitHub {
	return &fakeGitHub{next: 100, lose: map[string]int{}, statuses: map[int64][]string{}, descriptions: map[int64][]string{},
		checks: []gh.CheckRun{{Name: "modelgate / validate", Status: "completed", Conclusion: "success"}}}
}

// write counts a write and says whether its answer is lost.
func (g *fakeGitHub) write(method string) error {
	g.writes++
	if g.lose[method] > 0 {
		g.lose[method]--
		return errors.New("connection reset by peer")
	}
	return nil
}

func (g *fakeGitHub) CreateDeployment(_ context.Context, _ gh.Repo, d gh.Deployment) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reject != nil {
		return 0, g.reject
	}
	g.next++
	g.deployments = append(g.deployments, fakeDeployment{ID: g.next, Deployment: d})
	return g.next, g.write("CreateDeployment")
}

func (g *fakeGitHub) FindDeployment(_ context.Context, _ gh.Repo, d gh.Deployment) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, x := range g.deployments {
		if x.Ref == d.Ref && x.Task == d.Task && x.Environment == d.Environment &&
			x.Payload.RolloutID == d.Payload.RolloutID && x.Payload.Stage == d.Payload.Stage {
			return x.ID, nil
		}
	}
	return 0, nil
}

func (g *fakeGitHub) CreateDeploymentStatus(_ context.Context, _ gh.Repo, id int64, state, description string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.statuses[id] = append(g.statuses[id], state)
	g.descriptions[id] = append(g.descriptions[id], description)
	return g.write("CreateDeploymentStatus")
}

func (g *fakeGitHub) PostComment(_ context.Context, _ gh.Repo, number int, body string) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	g.comments = append(g.comments, &fakeComment{ID: g.next, PR: number, Body: body})
	return g.next, g.write("PostComment")
}

func (g *fakeGitHub) EditComment(_ context.Context, _ gh.Repo, id int64, body string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.comments {
		if c.ID == id {
			c.Body = body
			return g.write("EditComment")
		}
	}
	return gh.ErrNotFound
}

func (g *fakeGitHub) FindComment(_ context.Context, _ gh.Repo, number int, marker string) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.comments {
		if c.PR == number && strings.Contains(c.Body, marker) {
			return c.ID, nil
		}
	}
	return 0, nil
}

func (g *fakeGitHub) CheckRuns(context.Context, gh.Repo, string) ([]gh.CheckRun, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.checks, nil
}

// PullRequest says every other pull request is open.
func (g *fakeGitHub) PullRequest(_ context.Context, _ gh.Repo, n int) (gh.PullRequest, error) {
	return gh.PullRequest{Number: n, State: "open"}, nil
}

func (g *fakeGitHub) ForInstallation(int64) (effect.GitHub, error) { return g, nil }

func (g *fakeGitHub) tasks() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, d := range g.deployments {
		out = append(out, fmt.Sprintf("%s@%g", d.Task, d.Payload.TrafficPercent))
	}
	return out
}

func (g *fakeGitHub) last() fakeDeployment {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.deployments[len(g.deployments)-1]
}

func (g *fakeGitHub) bodies() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, c := range g.comments {
		out = append(out, c.Body)
	}
	return out
}

// fakeProvider serves one latency metric per version: lognormal around
// 40 ms times the version's factor, with seeded noise.
type fakeProvider struct {
	mu      sync.Mutex
	factor  map[string]float64
	down    bool
	empty   bool
	queries int
	// thin answers this many more queries with no samples, as a provider
	// that has just come back and collected nothing yet.
	thin int
}

func (p *fakeProvider) Lookup(name string) (metrics.Provider, error) {
	if name != "prometheus" {
		return nil, fmt.Errorf("%w %q", metrics.ErrUnknownProvider, name)
	}
	return p, nil
}

func (p *fakeProvider) ScrapeInterval(context.Context) (time.Duration, error) {
	return time.Second, nil
}

// Counts serves no counters: the fake's plan has a query metric.
func (p *fakeProvider) Counts(context.Context, metrics.CountQuery) (metrics.Increments, error) {
	return metrics.Increments{}, &metrics.Error{Kind: metrics.ErrNoCounts, Msg: "the fake serves no counters"}
}

func (p *fakeProvider) Samples(_ context.Context, q metrics.Query) (metrics.Series, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queries++
	if p.down {
		return metrics.Series{}, &metrics.Error{Kind: metrics.ErrUnavailable, Msg: "connection refused"}
	}
	if p.empty || p.thin > 0 {
		p.thin = max(p.thin-1, 0)
		return metrics.Series{}, nil
	}
	f, ok := p.factor[q.Version]
	if !ok {
		f = 1
	}
	seed := fnv.New64a()
	seed.Write([]byte(q.Version))
	rng := rand.New(rand.NewPCG(uint64(q.Start.UnixNano()), seed.Sum64()))
	var s metrics.Series
	for t := q.Start; !t.After(q.End); t = t.Add(q.Step) {
		s.Samples = append(s.Samples, metrics.Sample{Time: t, Value: 40 * f * math.Exp(0.1*rng.NormFloat64())})
	}
	return s, nil
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

const planYAML = `apiVersion: modelgate.dev/v1
kind: Model
metadata: {name: fraud-detector, version: 3.2.0, owner: risk-ml@example.com}
spec:
  rollout:
    environment: production
    baseline: 3.1.0
    stages:
      - {traffic: 5, analysis: 30s}
      - {traffic: 25, analysis: 30s%s}
      - {traffic: 100}
    analysis:
      interval: 10s
      metrics:
        - name: latency_p99_ms
          query: 'latency{model="{{.Model}}",version="{{.Version}}"}'
          direction: increase_is_bad
          tolerance: 0.05
          critical: true
`

// harness is an engine on a real SQLite store with fakes around it.
type harness struct {
	t     *testing.T
	db    string
	st    store.Store
	gh    *fakeGitHub
	prov  *fakeProvider
	clock *testClock
	eng   *engine.Engine
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, db: filepath.Join(t.TempDir(), "bot.db"), gh: newFakeGitHub(),
		prov:  &fakeProvider{factor: map[string]float64{}},
		clock: &testClock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}}
	h.restart()
	return h
}

// restart opens the store afresh and builds a new engine on it, as a new
// process would.
func (h *harness) restart() {
	h.t.Helper()
	if h.st != nil {
		require.NoError(h.t, h.st.Close())
	}
	st, err := store.OpenSQLite(context.Background(), h.db, store.SQLiteOptions{Now: h.clock.Now})
	require.NoError(h.t, err)
	h.st = st
	h.t.Cleanup(func() { st.Close() })
	h.eng = h.newEngine("w1")
}

func (h *harness) newEngine(worker string) *engine.Engine {
	return h.engineOn(h.st, worker)
}

// engineOn wires an engine on st, as bot serve does.
func (h *harness) engineOn(st engine.Store, worker string) *engine.Engine {
	j, err := judge.New(judge.DefaultConfig())
	require.NoError(h.t, err)
	return engine.New(engine.Config{Store: st, Jobs: h.st.Queue(), Clients: h.gh, Providers: h.prov, Judge: j,
		BotLogin: "modelgate[bot]", Worker: worker, Now: h.clock.Now})
}

// request is a command from alice on PR 1 whose head changes the model.
func (h *harness) request(line string, manifest string) chatops.Request {
	h.t.Helper()
	cmd, err := chatops.Parse(line)
	require.NoError(h.t, err)
	var m map[string]any
	require.NoError(h.t, yaml.Unmarshal([]byte(manifest), &m))
	return chatops.Request{Command: cmd, Repo: gh.Repo{Owner: "acme", Name: "models"},
		PullRequest: gh.PullRequest{Number: 1, Author: "alice", State: "open", HeadSHA: strings.Repeat("a", 40)},
		Commenter:   "alice", InstallationID: 7, GitHub: h.gh,
		Targets: []chatops.Target{{Model: "fraud-detector", Version: "3.2.0", Environment: "production",
			Path: "models/fraud/model.yaml", Manifest: m}}}
}

// drain runs due work until none is left.
func (h *harness) drain() {
	h.t.Helper()
	for range 100 {
		n, err := h.eng.Scheduler.RunDue(context.Background())
		require.NoError(h.t, err)
		if n == 0 {
			return
		}
	}
	h.t.Fatal("work never ran out")
}

// answer is the deploy workflow reporting on the latest deployment.
func (h *harness) answer(state string) {
	h.t.Helper()
	d := h.gh.last()
	require.NoError(h.t, h.eng.Events.HandleDeploymentStatus(context.Background(), event.DeploymentStatus{
		Repo: gh.Repo{Owner: "acme", Name: "models"}, DeploymentID: d.ID, Task: d.Task, Creator: "modelgate[bot]",
		Payload: mustJSON(h.t, d.Payload), State: state, Description: "workflow says " + state, Sender: "github-actions[bot]"}))
	h.drain()
}

// wait lets time pass in steps of the analysis interval, running due work.
func (h *harness) wait(d time.Duration) {
	for passed := time.Duration(0); passed < d; passed += 10 * time.Second {
		h.clock.Add(10 * time.Second)
		h.drain()
	}
}

func (h *harness) rollout() (canary.Rollout, error) {
	rows, err := h.st.ListRollouts(context.Background(), store.RolloutFilter{Limit: 1})
	require.NoError(h.t, err)
	require.NotEmpty(h.t, rows)
	return canary.Decode(rows[0])
}

func (h *harness) phase() string {
	l, err := h.rollout()
	require.NoError(h.t, err)
	return string(l.Record.State.Phase)
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
