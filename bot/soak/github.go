package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/modelgate/modelgate/internal/exporter"
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
// every two seconds on the request counts the exporter serves, as the
// contract's example plan reads them. Five looks in a row may find
// nothing, not three: the looks are closer together than a restarted
// Prometheus takes to scrape again (its discovery runs after 5 s).
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
      consecutive_error_limit: 5
      metrics:
        - name: error_rate
          kind: ratio
          errors: 'model_requests_total{model="{{.Model}}",version="{{.Version}}",code=~"5.."}'
          total: 'model_requests_total{model="{{.Model}}",version="{{.Version}}"}'
          direction: increase_is_bad
          tolerance: 0.25
          critical: true
        - name: latency_p99
          kind: histogram
          histogram: 'model_latency_seconds{model="{{.Model}}",version="{{.Version}}"}'
          quantile: 0.99
          direction: increase_is_bad
          tolerance: 0.25
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
	// shift moves a deployment's traffic, as the deploy workflow does.
	shift    func(fakegithub.Deployment)
	accepted []string
	targets  func() []string
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
		if g.shift != nil {
			g.shift(dep)
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

// The soak's traffic: each model's two versions share it as the stages
// put it, with the same errors and latency, unless the canary is
// regressed (its latency ×1.5). The exporter adds expected counts, so
// that no healthy canary is rolled back by chance (the judge's false
// rollbacks are measured elsewhere: internal/realbench).
const (
	rate    = 1000.0 // requests per second of a model, both versions together
	latency = 0.04   // seconds, median
)

// traffic serves every model's request streams for Prometheus to scrape.
type traffic struct {
	x *exporter.Exporter
}

func newTraffic(ctx context.Context, models int) *traffic {
	var vs []exporter.Version
	for i := range models {
		m := modelName(i)
		vs = append(vs, exporter.Version{Model: m, Version: "1.0.0", RequestsPerSecond: rate, ErrorRate: 0.005,
			LatencyMedian: latency, LatencySigma: 0.3},
			exporter.Version{Model: m, Version: "2.0.0", ErrorRate: 0.005, LatencyMedian: latency, LatencySigma: 0.3})
	}
	x := exporter.New(vs, 50*time.Millisecond, 1, time.Now())
	x.Expected = true
	go x.Run(ctx)
	return &traffic{x: x}
}

func (tr *traffic) ServeHTTP(w http.ResponseWriter, r *http.Request) { tr.x.ServeHTTP(w, r) }

// shift puts percent of a model's requests on its canary.
func (tr *traffic) shift(l *launch, percent float64) {
	tr.x.Update(l.model, "1.0.0", func(v *exporter.Version) { v.RequestsPerSecond = rate * (100 - percent) / 100 })
	tr.x.Update(l.model, "2.0.0", func(v *exporter.Version) {
		v.RequestsPerSecond = rate * percent / 100
		if l.regressed {
			v.LatencyMedian = latency * 1.5
		}
	})
}

func modelName(i int) string { return fmt.Sprintf("m%02d", i+1) }
