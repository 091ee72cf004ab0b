package soak

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// repo is the soak's repository; each rollout has a pull request and a
// model of its own.
const (
	repo   = "octo/models"
	author = "alice"
	secret = "soak-secret"
)

// manifest is a rollout's model: 10 %, then 50 %, then 100 %, looks
// every two seconds on the latency the exporter serves.
const manifest = `apiVersion: modelgate.dev/v1
kind: Model
metadata: {name: %s, version: 2.0.0, owner: soak@example.com}
spec:
  framework: pytorch
  governance: {risk_tier: limited}
  rollout:
    environment: production
    baseline: 1.0.0
    stages:
      - {traffic: 10, analysis: 6s}
      - {traffic: 50, analysis: 6s}
      - {traffic: 100}
    analysis:
      interval: 2s
      metrics:
        - name: latency_p99_ms
          query: 'model_latency_ms{model="{{.Model}}",version="{{.Version}}"}'
          direction: increase_is_bad
          tolerance: 0.05
          critical: true
`

// launch is one rollout the soak starts.
type launch struct {
	pr        int
	model     string
	regressed bool
	comment   int64 // the /canary comment
}

func (l launch) want() string {
	if l.regressed {
		return "rolled_back"
	}
	return "promoted"
}

// github plays GitHub's part besides its API: it delivers webhooks, again
// until the bot takes them (a redelivery keeps the delivery's id), and now
// and then twice, as GitHub does; and it is the repository's deploy
// workflow, answering each of the bot's deployments with a success.
type github struct {
	gh  *fakegithub.Server
	t   fakegithub.T
	rng *rand.Rand

	mu        sync.Mutex
	pending   []*delivery
	answered  map[int64]bool
	sent      int
	redeliver int
	held      bool // GitHub is down: nothing is delivered
	accepted  []string
	targets   func() []string
}

type delivery struct {
	id, event string
	body      map[string]any
	next      time.Time
	accepted  bool
	again     bool // deliver once more after it was accepted
}

func newGitHub(gh *fakegithub.Server, t fakegithub.T, seed uint64, targets func() []string) *github {
	gh.SetPermission(repo, author, "write")
	return &github{gh: gh, t: t, rng: rand.New(rand.NewPCG(seed, seed+1)), answered: map[int64]bool{}, targets: targets}
}

// open adds a rollout's pull request and its /canary comment, and
// queues the comment's delivery.
func (g *github) open(l *launch) {
	path := "models/" + l.model + "/model.yaml"
	pr := g.gh.AddPullRequest(repo, fakegithub.PullRequest{Number: l.pr, Author: author, Title: l.model + " 2.0.0",
		Files: []fakegithub.File{{Filename: path}}})
	g.gh.SetFile(repo, pr.HeadSHA, path, fmt.Appendf(nil, manifest, l.model))
	g.gh.AddCheckRun(repo, pr.HeadSHA, fakegithub.CheckRun{Name: "modelgate / validate"})
	c := g.gh.AddComment(repo, l.pr, author, "/canary")
	l.comment = c.ID
	g.queue(fmt.Sprintf("canary-%d", l.pr), "issue_comment", g.gh.CommentEvent(g.t, repo, c.ID, "created"))
}

func (g *github) queue(id, event string, body map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending = append(g.pending, &delivery{id: id, event: event, body: body, next: time.Now(), again: g.rng.Float64() < 0.1})
}

// hold stops (or resumes) webhooks and the workflow, as when GitHub is down.
func (g *github) hold(down bool) {
	g.mu.Lock()
	g.held = down
	g.mu.Unlock()
}

// step answers new deployments and sends the deliveries due; it returns
// how many deliveries are still to be taken.
func (g *github) step() int {
	g.mu.Lock()
	held := g.held
	g.mu.Unlock()
	if held {
		return g.waiting()
	}
	g.workflow()
	g.mu.Lock()
	due := make([]*delivery, 0, len(g.pending))
	for _, d := range g.pending {
		if !time.Now().Before(d.next) {
			due = append(due, d)
		}
	}
	g.mu.Unlock()
	for _, d := range due {
		g.send(d)
	}
	return g.waiting()
}

func (g *github) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var left []*delivery
	for _, d := range g.pending {
		if !d.accepted || d.again {
			left = append(left, d)
		}
	}
	g.pending = left
	return len(left)
}

// send posts a delivery to a live replica; one not taken is sent again a
// second later, and one taken is sent once more if it is to be doubled.
// The bot answers 202 for a new delivery and 200 for one it has.
func (g *github) send(d *delivery) {
	targets := g.targets()
	if len(targets) == 0 {
		d.next = time.Now().Add(time.Second)
		return
	}
	g.mu.Lock()
	target := targets[g.rng.IntN(len(targets))]
	g.sent++
	g.mu.Unlock()
	req := fakegithub.SignedRequest(g.t, "http://"+target+"/webhook", secret, d.event, d.id, d.body)
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	// 200 is a duplicate: an earlier attempt was stored, its answer lost.
	ok := err == nil && (resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK)
	if err == nil {
		resp.Body.Close()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case !ok:
		d.next = time.Now().Add(time.Second)
	case d.accepted:
		d.again = false
		g.redeliver++
	default:
		d.accepted = true
		g.accepted = append(g.accepted, d.id)
		d.next = time.Now().Add(time.Duration(1+g.rng.IntN(5)) * time.Second)
	}
}

// acceptedIDs are the deliveries the bot answered 202.
func (g *github) acceptedIDs() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.accepted...)
}

// workflow is the deploy workflow: every new deployment of the bot's is
// reported a success, and its status delivered.
func (g *github) workflow() {
	for _, dep := range g.gh.Deployments(repo) {
		g.mu.Lock()
		done := g.answered[dep.ID]
		g.answered[dep.ID] = true
		g.mu.Unlock()
		if done || dep.Creator != fakegithub.BotLogin() {
			continue
		}
		st := g.gh.AddDeploymentStatus(repo, fakegithub.DeploymentStatus{DeploymentID: dep.ID, State: "success",
			Creator: "github-actions[bot]", Description: "traffic shifted"})
		g.queue(fmt.Sprintf("status-%d", st.ID), "deployment_status", g.gh.DeploymentStatusEvent(g.t, repo, st.ID))
	}
}

// payloadOf reads a deployment's payload (the contract's).
func payloadOf(dep fakegithub.Deployment) rollout.Payload {
	p, _ := rollout.ReadPayload(dep.Payload)
	return p
}

// exporter serves the latency of every model's two versions, for
// Prometheus to scrape: one wavy series per model, the canary's times 1.5
// when it is regressed.
type exporter struct {
	mu       sync.Mutex
	scrapes  int
	launches []*launch
}

func (x *exporter) add(l *launch) {
	x.mu.Lock()
	x.launches = append(x.launches, l)
	x.mu.Unlock()
}

func (x *exporter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.scrapes++
	var b strings.Builder
	b.WriteString("# TYPE model_latency_ms gauge\n")
	for i, l := range x.launches {
		base := 40 * (1 + 0.08*math.Sin(float64(x.scrapes)*0.9+float64(i)))
		factor := 1.0
		if l.regressed {
			factor = 1.5
		}
		fmt.Fprintf(&b, "model_latency_ms{model=%q,version=\"1.0.0\"} %g\n", l.model, base)
		fmt.Fprintf(&b, "model_latency_ms{model=%q,version=\"2.0.0\"} %g\n", l.model, base*factor)
	}
	_, _ = w.Write([]byte(b.String()))
}
