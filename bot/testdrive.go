package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/githubapp"
	"github.com/modelgate/modelgate/pkg/store"
)

// bot testdrive runs two canary rollouts on this machine, end to end, with
// nothing to set up: the real bot (webhook intake, store, engine, judge,
// Prometheus provider) in front of the embedded fake GitHub, which checks
// every call against GitHub's API description, and the embedded fake
// Prometheus scraping the model's request streams (testdrive_traffic.go),
// which the deploy workflow shifts from version to version: a healthy
// version and a regressed one. It plays the people and the deploy
// workflow, prints the pull request conversation as it happens, and ends
// with bot history's table.

// driveRepo is the repository of the test drive.
const driveRepo = "octo/models"

// driveVersion is a model version the drive rolls out, and what its
// canary does to the metrics.
type driveVersion struct {
	pr       int
	version  string
	baseline string  // "" for the version live in the environment
	slower   float64 // the canary's latency factor
	want     string  // the rollout's expected end
}

var driveVersions = []driveVersion{
	{pr: 1, version: "3.2.0", baseline: "3.1.0", slower: 1, want: "promoted"},
	{pr: 2, version: "3.3.0", slower: 1.3, want: "rolled_back"},
}

// driveLive is the version live when the drive starts.
const driveLive = "3.1.0"

// The plan is the example repository's (README, "Write the plan"), with
// windows of seconds. Its tolerances are wider than the example's: a look
// fails only when the estimated change is beyond the tolerance (and
// significant), and at the drive's traffic an unchanged canary's estimates
// are more than 5 standard errors from these tolerances at every look
// (error rate: 200 canary errors at the first look, a standard error of
// 0.07 on the log ratio against log 1.5 = 0.41; p99: about 0.01 against
// 0.10; confirmed alerts: 1,000 alerts, 0.026 against 0.16), so that the
// healthy version is not rolled back by bad luck, while the 30 % slower
// one fails its first stage.
const driveManifest = `apiVersion: modelgate.dev/v1
kind: Model
metadata: {name: fraud-detector, version: %s, owner: risk-ml@example.com}
spec:
  framework: pytorch
  task: classification
  governance: {risk_tier: limited}
  rollout:
    environment: production%s
    stages:
      - {traffic: 5, analysis: 4s}
      - {traffic: 25, analysis: 4s}
      - {traffic: 100}
    analysis:
      interval: 2s
      metrics:
        - name: error_rate
          kind: ratio
          errors: 'model_requests_total{model="{{.Model}}",version="{{.Version}}",code=~"5.."}'
          total: 'model_requests_total{model="{{.Model}}",version="{{.Version}}"}'
          direction: increase_is_bad
          tolerance: 0.50
          critical: true
        - name: latency_p99
          kind: histogram
          histogram: 'model_latency_seconds{model="{{.Model}}",version="{{.Version}}"}'
          quantile: 0.99
          direction: increase_is_bad
          tolerance: 0.10
          critical: true
        - name: fraud_alerts_confirmed
          kind: ratio
          errors: 'fraud_alerts_confirmed_total{model="{{.Model}}",version="{{.Version}}"}'
          total: 'fraud_alerts_total{model="{{.Model}}",version="{{.Version}}"}'
          direction: decrease_is_bad
          tolerance: 0.15
`

func runTestdrive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bot testdrive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print the bot's own logs too")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	d := &drive{out: stdout, start: time.Now(), seen: map[string]string{}}
	if err := d.run(ctx, *verbose, stderr); err != nil {
		fmt.Fprintf(stderr, "bot testdrive: %v\n", err)
		if strings.Contains(err.Error(), "module root") || strings.Contains(err.Error(), "testdata") {
			fmt.Fprintln(stderr, "bot testdrive runs in a clone of modelgate: the fake GitHub reads GitHub's API description and webhook examples from its testdata/.")
		}
		return 1
	}
	return 0
}

// drive is one test drive: the fakes, the bot, and what has been printed.
type drive struct {
	out     io.Writer
	start   time.Time
	gh      *fakegithub.Server
	srv     *server
	webhook string
	secret  string
	seen    map[string]string // what was printed of each comment, deployment and status
	logged  int               // the fake's requests already shown
	ds      driveT
	traffic *driveTraffic
}

func (d *drive) run(ctx context.Context, verbose bool, stderr io.Writer) (err error) {
	defer d.ds.cleanup()
	defer func() {
		switch p := recover().(type) {
		case nil:
		case driveFatal:
			err = errors.New(string(p))
		default:
			panic(p)
		}
	}()
	dir, err := os.MkdirTemp("", "modelgate-testdrive-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	d.gh = fakegithub.New(&d.ds)
	d.traffic = newDriveTraffic(d.start)
	trafficCtx, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	go d.traffic.run(trafficCtx)
	prom := httptest.NewServer(d.traffic.prom)
	defer prom.Close()

	d.secret = randomSecret()
	logs := io.Discard
	if verbose {
		logs = stderr
	}
	cfg := serveConfig{
		AppID: fakegithub.AppID, PrivateKey: string(d.gh.AppPrivateKeyPEM()), WebhookSecret: d.secret,
		GitHubURL: d.gh.URL(), DB: filepath.Join(dir, "modelgate.db"), PrometheusURL: prom.URL,
		BotLogin: fakegithub.BotLogin(), Workers: 2, MaxBody: githubapp.DefaultMaxBody,
		Poll: 50 * time.Millisecond, Checks: "modelgate", WebURL: "https://github.com",
	}
	d.srv, err = newServer(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), prometheus.NewRegistry())
	if err != nil {
		return err
	}
	defer d.srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- d.srv.Serve(serveCtx, ln) }()
	defer func() { stopServe(); <-served }()
	d.webhook = "http://" + ln.Addr().String() + "/webhook"

	fmt.Fprintf(d.out, "modelgate testdrive: the bot on %s, in front of a fake GitHub (%s, every call checked against GitHub's API description)\n", ln.Addr(), d.gh.URL())
	fmt.Fprintf(d.out, "and a fake Prometheus (%s) scraping fraud-detector's request streams every %v: %s requests a second, "+
		"on %s until the deploy workflow shifts them to a healthy %s and a slower %s.\n",
		prom.URL, driveScrape, humanCount(driveRate), driveLive, driveVersions[0].version, driveVersions[1].version)
	d.gh.SetPermission(driveRepo, "alice", "write")
	for _, v := range driveVersions {
		if err := d.rollout(ctx, v); err != nil {
			return err
		}
	}
	if v := d.gh.Violations(); len(v) > 0 {
		return fmt.Errorf("the bot made %d requests GitHub would refuse:\n%s", len(v), strings.Join(v, "\n"))
	}
	fmt.Fprintf(d.out, "\n── bot history, from the bot's store\n\n")
	if code := runHistory(ctx, []string{"--db", cfg.DB}, d.out, stderr); code != 0 {
		return fmt.Errorf("bot history exited %d", code)
	}
	fmt.Fprintf(d.out, "\nTwo rollouts in %.1f s. Run the bot for real: README.md, \"Setting it up\".\n", time.Since(d.start).Seconds())
	return nil
}

// rollout opens the version's pull request, comments /canary, and plays
// the deploy workflow until the rollout ends.
func (d *drive) rollout(ctx context.Context, v driveVersion) error {
	path := "models/fraud-detector/" + v.version + "/model.yaml"
	pr := d.gh.AddPullRequest(driveRepo, fakegithub.PullRequest{Number: v.pr, Author: "alice", Title: "fraud-detector " + v.version,
		Files: []fakegithub.File{{Filename: path}}})
	baseline := ""
	if v.baseline != "" {
		baseline = "\n    baseline: " + v.baseline
	}
	d.gh.SetFile(driveRepo, pr.HeadSHA, path, fmt.Appendf(nil, driveManifest, v.version, baseline))
	d.gh.AddCheckRun(driveRepo, pr.HeadSHA, fakegithub.CheckRun{Name: "modelgate / validate"})
	fmt.Fprintf(d.out, "\n── %s#%d \"fraud-detector %s\" by @alice: adds %s (check run modelgate / validate: success)\n",
		driveRepo, v.pr, v.version, path)
	c := d.gh.AddComment(driveRepo, v.pr, "alice", "/canary")
	d.seen[fmt.Sprint("comment ", c.ID)] = c.Body
	d.say("@alice", "commented", c.Body)
	if err := d.deliver(ctx, "issue_comment", d.gh.CommentEvent(&d.ds, driveRepo, c.ID, "created")); err != nil {
		return err
	}
	for {
		d.show(v.pr)
		if err := d.workflow(ctx, v.pr); err != nil {
			return err
		}
		ro, ok, err := d.current(ctx, v.pr)
		if err != nil {
			return err
		}
		if ok && !ro.Active() && !strings.Contains(string(ro.Record), `"outbox"`) {
			d.show(v.pr)
			if ro.State != v.want {
				return fmt.Errorf("the rollout of %s ended %s, not %s", v.version, ro.State, v.want)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the rollout of %s did not end in time: %w", v.version, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (d *drive) current(ctx context.Context, pr int) (store.Rollout, bool, error) {
	rows, err := d.srv.store.ListRollouts(ctx, store.RolloutFilter{Repo: driveRepo, PR: pr, Limit: 1})
	if err != nil || len(rows) == 0 {
		return store.Rollout{}, false, err
	}
	return rows[0], true, nil
}

// workflow is the repository's deploy workflow: it shifts the traffic of
// each new deployment of the bot and answers with a success status.
func (d *drive) workflow(ctx context.Context, pr int) error {
	for _, dep := range d.gh.Deployments(driveRepo) {
		key := fmt.Sprint("answered ", dep.ID)
		if dep.Creator != fakegithub.BotLogin() || d.seen[key] != "" {
			continue
		}
		if d.seen[fmt.Sprint("deployment ", dep.ID)] == "" {
			d.show(pr) // what the bot did up to this deployment, first
		}
		p := payloadOf(dep)
		d.traffic.shift(p.Version, p.BaselineVersion, p.TrafficPercent)
		st := d.gh.AddDeploymentStatus(driveRepo, fakegithub.DeploymentStatus{DeploymentID: dep.ID, State: "success",
			Creator: "github-actions[bot]", Description: fmt.Sprintf("%s %s at %g %%", p.Model, p.Version, p.TrafficPercent)})
		d.seen[key] = "yes"
		d.seen[fmt.Sprint("status ", st.ID)] = st.State
		d.say("deploy workflow", fmt.Sprintf("shifted the traffic, deployment %d", dep.ID), "→ "+st.State+": "+st.Description)
		if err := d.deliver(ctx, "deployment_status", d.gh.DeploymentStatusEvent(&d.ds, driveRepo, st.ID)); err != nil {
			return err
		}
	}
	return nil
}

// deliver sends a signed webhook to the bot, as GitHub does.
func (d *drive) deliver(ctx context.Context, event string, payload map[string]any) error {
	req := fakegithub.SignedRequest(&d.ds, d.webhook, d.secret, event, randomSecret(), payload)
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("deliver %s: %w", event, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		body, _ := io.ReadAll(res.Body)
		return fmt.Errorf("deliver %s: %s: %s", event, res.Status, body)
	}
	return nil
}

// show prints what the bot did since the last look, in the order it did
// it: the fake's log of requests gives the order (its timestamps have
// GitHub's one-second grain), its state what each request made.
func (d *drive) show(pr int) {
	requests := d.gh.Requests()
	for _, r := range requests[d.logged:] {
		if r.Status >= 300 || (r.Method != http.MethodPost && r.Method != http.MethodPatch) {
			continue
		}
		switch m := botAction.FindStringSubmatch(r.Path); {
		case m == nil:
		case m[1] != "" && r.Method == http.MethodPost:
			d.newComment(pr)
		case m[2] != "" && m[3] == "" && r.Method == http.MethodPatch:
			d.editedComment(pr, m[2])
		case m[3] != "":
			d.newReaction(pr, m[2])
		case m[4] != "" && m[5] == "":
			d.newDeployment()
		case m[5] != "":
			d.newStatus(m[5])
		}
	}
	d.logged = len(requests)
}

// botAction matches the paths of what the bot writes: a comment on an
// issue (1), a comment edit (2) or a reaction to it (3), a deployment (4),
// a deployment status (5).
var botAction = regexp.MustCompile(`^/repos/[^/]+/[^/]+/(?:issues/(\d+)/comments|issues/comments/(\d+)(/reactions)?|(deployments)(?:/(\d+)/statuses)?)$`)

func (d *drive) newComment(pr int) {
	for _, c := range d.gh.Comments(driveRepo, pr) {
		key := fmt.Sprint("comment ", c.ID)
		if _, shown := d.seen[key]; !shown && c.User == fakegithub.BotLogin() {
			d.seen[key] = c.Body
			d.say("@"+c.User, "commented", terminalText(c.Body))
			return
		}
	}
}

func (d *drive) editedComment(pr int, id string) {
	for _, c := range d.gh.Comments(driveRepo, pr) {
		key := "comment " + id
		if fmt.Sprint(c.ID) != id || d.seen[key] == c.Body {
			continue
		}
		before := d.seen[key]
		d.seen[key] = c.Body
		d.say("@"+c.User, "edited its comment", changedLines(terminalText(before), terminalText(c.Body)))
	}
}

func (d *drive) newReaction(pr int, commentID string) {
	for _, c := range d.gh.Comments(driveRepo, pr) {
		if fmt.Sprint(c.ID) != commentID {
			continue
		}
		for _, r := range d.gh.Reactions(driveRepo, c.ID) {
			if key := fmt.Sprint("reaction ", r.ID); d.seen[key] == "" {
				d.seen[key] = r.Content
				d.say("@"+r.User, "reacted "+emoji(r.Content)+" to @"+c.User+"'s comment", "")
			}
		}
	}
}

func (d *drive) newDeployment() {
	for _, dep := range d.gh.Deployments(driveRepo) {
		key := fmt.Sprint("deployment ", dep.ID)
		if d.seen[key] != "" {
			continue
		}
		d.seen[key] = "shown"
		p := payloadOf(dep)
		d.say("@"+dep.Creator, fmt.Sprintf("created deployment %d", dep.ID),
			fmt.Sprintf("%s of %s %s (baseline %s) in %s: %g %% of the traffic, stage %d, commit %.7s",
				dep.Task, p.Model, p.Version, p.BaselineVersion, dep.Environment, p.TrafficPercent, p.Stage, dep.SHA))
		return
	}
}

func (d *drive) newStatus(deploymentID string) {
	for _, dep := range d.gh.Deployments(driveRepo) {
		if fmt.Sprint(dep.ID) != deploymentID {
			continue
		}
		for _, st := range d.gh.DeploymentStatuses(driveRepo, dep.ID) {
			if key := fmt.Sprint("status ", st.ID); d.seen[key] == "" {
				d.seen[key] = st.State
				d.say("@"+st.Creator, fmt.Sprintf("set deployment %d", dep.ID), "→ "+st.State+": "+st.Description)
				return
			}
		}
	}
}

// say prints one event of the conversation, with the time since the start.
func (d *drive) say(who, what, text string) {
	fmt.Fprintf(d.out, "[%5.1fs] %s %s\n", time.Since(d.start).Seconds(), who, what)
	if text = strings.TrimRight(text, "\n"); text != "" {
		for _, l := range strings.Split(text, "\n") {
			fmt.Fprintf(d.out, "         │ %s\n", l)
		}
	}
}

type deploymentPayload struct {
	Model           string  `json:"model"`
	Version         string  `json:"version"`
	BaselineVersion string  `json:"baseline_version"`
	Stage           int     `json:"stage"`
	TrafficPercent  float64 `json:"traffic_percent"`
}

func payloadOf(dep fakegithub.Deployment) deploymentPayload {
	var p deploymentPayload
	_ = json.Unmarshal(dep.Payload, &p)
	return p
}

// terminalText is a comment as a terminal shows it: without the hidden
// markers and the charts folded in <details>.
func terminalText(body string) string {
	var out []string
	folded := false
	for _, l := range strings.Split(body, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "<details"):
			folded = true
			if i := strings.Index(t, "<summary>"); i >= 0 {
				out = append(out, "▸ "+strings.TrimSuffix(t[i+len("<summary>"):], "</summary>")+" (folded)")
			}
		case strings.HasPrefix(t, "</details>"):
			folded = false
		case folded, strings.HasPrefix(t, "<!--") && strings.HasSuffix(t, "-->"):
		default:
			out = append(out, l)
		}
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

// changedLines is the lines of after that before did not have.
func changedLines(before, after string) string {
	had := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		had[l] = true
	}
	var out []string
	for _, l := range strings.Split(after, "\n") {
		if !had[l] && strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func emoji(content string) string {
	if e, ok := map[string]string{"eyes": "👀", "+1": "👍", "-1": "👎", "rocket": "🚀", "confused": "😕", "hooray": "🎉"}[content]; ok {
		return e
	}
	return content
}

func versionsOf(vs []driveVersion) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.version)
	}
	sort.Strings(out)
	return out
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// driveT is what the fake GitHub needs of its user, outside a test: a
// request GitHub would refuse is a violation, reported at the end; a
// misuse of the fake stops the drive.
type driveT struct {
	cleanups []func()
	errors   []string
}

type driveFatal string

func (t *driveT) Helper() {}
func (t *driveT) Errorf(format string, args ...any) {
	t.errors = append(t.errors, fmt.Sprintf(format, args...))
}
func (t *driveT) Fatalf(format string, args ...any) { panic(driveFatal(fmt.Sprintf(format, args...))) }
func (t *driveT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }

func (t *driveT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	for _, e := range t.errors {
		fmt.Fprintln(os.Stderr, e)
	}
}
