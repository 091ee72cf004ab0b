// Package realbench measures the canary judge on data a real Prometheus
// scraped from the test exporter: A/A false rollbacks over whole stages
// and detection of regressions, per metric kind and traffic split, judged
// through the engine's own code (analysis.ReadLook and Analyzer.Decide on
// metrics.Prometheus, each look's event fed to the rollout state machine),
// beside a Kayenta-style judge and an exact conditional binomial test on
// the same counts.
//
// One Prometheus records many independent version pairs at once (one
// model per pair), for as long as Options.Record; the recording is then
// cut into back-to-back windows, each one stage plus its one possible
// extension, and every window of every pair is judged after the fact, at
// its historical look times.
//
// With Options.Simulated, the fake Prometheus (internal/fakeprometheus)
// scrapes the same exporter in simulated time instead: the recording takes
// seconds rather than Options.Record, no scrape ever fails, and the same
// seed gives the same counts, so that two versions of the judge can be
// compared on the same data. The fake answers only the count kinds'
// reads: the query plans are left out.
package realbench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/modelgate/modelgate/internal/exporter"
	"github.com/modelgate/modelgate/internal/fakeprometheus"
	"github.com/modelgate/modelgate/internal/promtest"
	"github.com/modelgate/modelgate/internal/sysload"
	"github.com/modelgate/modelgate/pkg/analysis"
	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// Scenario is one kind of version pair.
type Scenario struct {
	Name string
	// AA says the canary changed nothing: a rollback is false.
	AA bool
	// CanaryShare is the canary's share of the pair's requests (0.5 or 0.05).
	CanaryShare float64
	// Bursty streams have bursts (Burst, or HeavyBursts when Heavy).
	Bursty, Heavy bool
	// LatencyFactor and CanaryErrorRate are the canary's changes.
	LatencyFactor, CanaryErrorRate float64
}

// Traffic is the stage's traffic for the canary, in percent.
func (s Scenario) Traffic() float64 { return 100 * s.CanaryShare }

// The streams' parameters: 400 requests/s per version at equal traffic,
// 380 and 20 at 5 %; 0.5 % errors; lognormal latency, median 50 ms.
const (
	pairRate    = 800.0
	baseErrors  = 0.005
	latMedian   = 0.05
	latSigma    = 0.3
	canaryShare = 0.05
)

// Scenarios returns the benchmark's scenarios.
func Scenarios() []Scenario {
	var out []Scenario
	for _, share := range []float64{0.5, canaryShare} {
		split := "equal traffic"
		if share != 0.5 {
			split = "canary at 5 %"
		}
		out = append(out,
			Scenario{Name: "A/A, " + split, AA: true, CanaryShare: share},
			Scenario{Name: "A/A bursty, " + split, AA: true, CanaryShare: share, Bursty: true},
			Scenario{Name: "latency x1.10, " + split, CanaryShare: share, LatencyFactor: 1.10},
			Scenario{Name: "latency x1.25, " + split, CanaryShare: share, LatencyFactor: 1.25},
			Scenario{Name: "errors 0.5 % -> 1 %, " + split, CanaryShare: share, CanaryErrorRate: 0.01},
			Scenario{Name: "errors 0.5 % -> 2 %, " + split, CanaryShare: share, CanaryErrorRate: 0.02},
		)
	}
	return append(out, Scenario{Name: "A/A heavy bursts, equal traffic", AA: true, CanaryShare: 0.5, Bursty: true, Heavy: true})
}

// Bursts of each version on its own (a flaky dependency of its pods): one
// second in six on average, with 1.5 times the requests, twice the error
// rate and 1.2 times the latency.
var Burst = exporter.Burst{MeanCalm: 5 * time.Second, MeanBurst: time.Second, Rate: 1.5, Errors: 2, LatencyTime: 1.2}

// HeavyBursts are rarer and stronger: about three per minute and version,
// of two seconds, with twice the requests, four times the error rate and
// 1.3 times the latency; a stage's counts then hinge on a handful of
// bursts.
var HeavyBursts = exporter.Burst{MeanCalm: 20 * time.Second, MeanBurst: 2 * time.Second, Rate: 2, Errors: 4, LatencyTime: 1.3}

// streams returns the two versions of pair i of a scenario.
func (s Scenario) streams(model string, r *rand.Rand) []exporter.Version {
	drift := &exporter.Drift{Period: 10 * time.Minute, Amplitude: 0.3, Phase: 2 * math.Pi * r.Float64()}
	var burst *exporter.Burst
	switch {
	case s.Heavy:
		b := HeavyBursts
		burst = &b
	case s.Bursty:
		b := Burst
		burst = &b
	}
	base := exporter.Version{Model: model, Version: baselineVersion, RequestsPerSecond: pairRate * (1 - s.CanaryShare),
		ErrorRate: baseErrors, LatencyMedian: latMedian, LatencySigma: latSigma, Burst: burst, Drift: drift}
	can := base
	can.Version, can.RequestsPerSecond = canaryVersion, pairRate*s.CanaryShare
	if s.CanaryErrorRate > 0 {
		can.ErrorRate = s.CanaryErrorRate
	}
	if s.LatencyFactor > 0 {
		can.LatencyMedian *= s.LatencyFactor
	}
	if burst != nil {
		b := *burst // independent bursts on each side
		can.Burst = &b
	}
	return []exporter.Version{base, can}
}

const (
	baselineVersion = "1.0.0"
	canaryVersion   = "2.0.0"
)

// The metrics of the plans, as the README's example plan writes them.
var (
	errorRate = rollout.Metric{Name: "error_rate", Kind: rollout.KindRatio,
		Errors:    `model_requests_total{model="{{.Model}}",version="{{.Version}}",code=~"5.."}`,
		Total:     `model_requests_total{model="{{.Model}}",version="{{.Version}}"}`,
		Direction: "increase_is_bad", Tolerance: 0.05, Critical: true}
	latencyP99 = rollout.Metric{Name: "latency_p99", Kind: rollout.KindHistogram,
		Histogram: `model_latency_seconds{model="{{.Model}}",version="{{.Version}}"}`, Quantile: 0.99,
		Direction: "increase_is_bad", Tolerance: 0.05, Critical: true}
	queryP99 = rollout.Metric{Name: "latency_p99_query", Kind: rollout.KindQuery,
		Query:     `histogram_quantile(0.99, sum by (le)(rate(model_latency_seconds_bucket{model="{{.Model}}",version="{{.Version}}"}[5s])))`,
		Direction: "increase_is_bad", Tolerance: 0.05, Critical: true}
	queryErrors = rollout.Metric{Name: "error_rate_query", Kind: rollout.KindQuery,
		Query: `sum(rate(model_requests_total{model="{{.Model}}",version="{{.Version}}",code=~"5.."}[5s])) / ` +
			`sum(rate(model_requests_total{model="{{.Model}}",version="{{.Version}}"}[5s]))`,
		Direction: "increase_is_bad", Tolerance: 0.05, Critical: true}
	// todayP99 is the query as users write it today: refused by CheckPlan.
	todayP99 = rollout.Metric{Name: "latency_p99_1m", Kind: rollout.KindQuery,
		Query:     `histogram_quantile(0.99, sum by (le)(rate(model_latency_seconds_bucket{model="{{.Model}}",version="{{.Version}}"}[1m])))*1000`,
		Direction: "increase_is_bad", Tolerance: 0.05, Critical: true}
)

// Plan is a set of metrics judged together, as one rollout plan.
type Plan struct {
	Name    string
	Metrics []rollout.Metric
}

// plans are the plans a run judges: the count kinds only when simulated.
func (o Options) plans() []Plan {
	if !o.Simulated {
		return Plans()
	}
	var out []Plan
	for _, p := range Plans() {
		if !slices.ContainsFunc(p.Metrics, func(m rollout.Metric) bool { return m.MetricKind() == rollout.KindQuery }) {
			out = append(out, p)
		}
	}
	return out
}

// Plans are the plans judged on every window.
func Plans() []Plan {
	return []Plan{
		{"ratio", []rollout.Metric{errorRate}},
		{"histogram", []rollout.Metric{latencyP99}},
		{"ratio + histogram", []rollout.Metric{errorRate, latencyP99}},
		{"query p99 [5s]", []rollout.Metric{queryP99}},
		{"query errors [5s]", []rollout.Metric{queryErrors}},
	}
}

// The comparison judges, by name.
const (
	KayentaErrors = "kayenta-mw errors"
	KayentaP99    = "kayenta-mw p99"
	KayentaBoth   = "kayenta-mw both"
	ExactBinomial = "exact binomial errors (once)"
)

// Options sizes a run.
type Options struct {
	// Pairs is the number of version pairs per scenario.
	Pairs int
	// Record is how long Prometheus records.
	Record time.Duration
	// Stage is a stage's analysis window and Looks its looks.
	Stage time.Duration
	Looks int
	// Scrape is Prometheus's scrape interval.
	Scrape  time.Duration
	Seed    uint64
	Workers int
	// Scenarios to run; all when empty.
	Scenarios []Scenario
	// Dir holds Prometheus's data; a temporary directory when empty.
	Dir string
	// Simulated records with the fake Prometheus in simulated time, the
	// count kinds only (see the package comment).
	Simulated bool
	// Logf reports progress; may be nil.
	Logf func(format string, args ...any)
}

// DefaultOptions is the full measurement: 20 pairs per scenario recorded
// for 25 minutes, 60 s stages of 6 looks, 1 s scrapes.
func DefaultOptions() Options {
	return Options{Pairs: 20, Record: 25 * time.Minute, Stage: time.Minute, Looks: 6, Scrape: time.Second, Seed: 1, Workers: 2}
}

// Cell counts the outcomes of one plan or judge on one scenario's windows.
// Windows with a gap in the recording (a scrape that failed: every series
// of the target is then stale, and the engine rightly finds no data) are
// left out of every cell and counted in Gaps.
type Cell struct {
	Windows int
	Gaps    int
	// Rollbacks are windows rolled back; Paused those the state machine
	// paused (a traffic mismatch, inconclusive after the extension, the
	// provider failing three times).
	Rollbacks, Paused int
	// NoData counts looks without data.
	NoData int
}

// Rate is the share of windows rolled back.
func (c Cell) Rate() float64 {
	if c.Windows == 0 {
		return math.NaN()
	}
	return float64(c.Rollbacks) / float64(c.Windows)
}

// Key names a cell.
type Key struct{ Scenario, Judge string }

// Results are a run's counts.
type Results struct {
	Options   Options
	Scenarios []Scenario
	Judges    []string
	Cells     map[Key]Cell
	// Refused are CheckPlan's words on today's query.
	Refused string
	// Load is the load average when the judging ended.
	Load string
}

// Run records and judges.
func Run(ctx context.Context, opts Options) (Results, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	scenarios := opts.Scenarios
	if len(scenarios) == 0 {
		scenarios = Scenarios()
	}
	res := Results{Options: opts, Scenarios: scenarios, Cells: map[Key]Cell{}, Judges: judgeNames(opts.plans())}
	res.Refused = refusal(opts)

	versions := pairs(opts, scenarios)
	record := record
	if opts.Simulated {
		record = recordSimulated
	}
	rec, err := record(ctx, opts, versions, logf)
	if err != nil {
		return res, err
	}
	defer rec.close()
	prov, err := metrics.NewPrometheus(rec.url, 30*time.Second)
	if err != nil {
		return res, err
	}
	if err := judgeAll(ctx, opts, prov, rec, scenarios, &res, logf); err != nil {
		return res, err
	}
	res.Load = sysload.Averages()
	return res, nil
}

// refusal is what CheckPlan says of today's query in these stages.
func refusal(opts Options) string {
	plan := rollout.Plan{Stages: []rollout.Stage{{Traffic: 5, Analysis: opts.Stage}, {Traffic: 100}},
		Analysis: rollout.Analysis{Interval: opts.Stage / time.Duration(opts.Looks), Metrics: []rollout.Metric{todayP99}}}
	if err := analysis.CheckPlan(plan); err != nil {
		return err.Error()
	}
	return "accepted"
}

// recording is a Prometheus, real or fake, that recorded the pairs: its
// URL, the span recorded, and what stops it.
type recording struct {
	url      string
	from, to time.Time
	close    func()
}

// model names pair p of scenario s.
func model(s, p int) string { return fmt.Sprintf("s%d-p%d", s, p) }

// pairs are the streams of every pair of every scenario.
func pairs(opts Options, scenarios []Scenario) []exporter.Version {
	r := rand.New(rand.NewPCG(opts.Seed, 11))
	var versions []exporter.Version
	for si, sc := range scenarios {
		for p := range opts.Pairs {
			versions = append(versions, sc.streams(model(si, p), r)...)
		}
	}
	return versions
}

// record serves the pairs, has Prometheus scrape them for opts.Record,
// and returns the recording.
func record(ctx context.Context, opts Options, versions []exporter.Version, logf func(string, ...any)) (*recording, error) {
	exp := exporter.New(versions, 100*time.Millisecond, opts.Seed, time.Now())
	runCtx, stopExporter := context.WithCancel(context.Background())
	go exp.Run(runCtx)
	stopServer, addr, err := serve(exp)
	if err != nil {
		stopExporter()
		return nil, err
	}
	dir, removeDir := opts.Dir, func() {}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "realbench-"); err != nil {
			stopExporter()
			stopServer()
			return nil, err
		}
		removeDir = func() { _ = os.RemoveAll(dir) }
	}
	prom, err := promtest.StartScraper(dir, addr, opts.Scrape)
	if err != nil {
		stopExporter()
		stopServer()
		removeDir()
		return nil, err
	}
	rec := &recording{url: prom.URL, from: time.Now().Add(2 * opts.Scrape), close: func() {
		stopExporter()
		prom.Close()
		stopServer()
		removeDir()
	}}
	logf("recording %d pairs (%d series) for %v", len(versions)/2, len(versions)*44, opts.Record)
	select {
	case <-time.After(opts.Record):
	case <-ctx.Done():
		rec.close()
		return nil, ctx.Err()
	}
	rec.to = time.Now().Add(-2 * opts.Scrape)
	time.Sleep(2 * opts.Scrape) // the last scrapes reach the TSDB
	return rec, nil
}

// scrapeOffset is where the simulated scrapes fall within a scrape
// interval, so that slice ends and scrapes do not coincide (Prometheus
// spreads its targets' scrapes over the interval).
const scrapeOffset = 0.37

// recordSimulated has the fake Prometheus scrape the pairs every
// opts.Scrape of simulated time, for opts.Record ending now, and serves
// its answers.
func recordSimulated(ctx context.Context, opts Options, versions []exporter.Version, logf func(string, ...any)) (*recording, error) {
	end := time.Now().Truncate(time.Second)
	start := end.Add(-opts.Record)
	exp := exporter.New(versions, 100*time.Millisecond, opts.Seed, start)
	target := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = exp.Write(w) })
	fake := fakeprometheus.New(opts.Scrape, fakeprometheus.Target{Job: "exporter", Instance: "simulated", Handler: target})
	logf("recording %d pairs (%d series) for %v of simulated time", len(versions)/2, len(versions)*44, opts.Record)
	offset := time.Duration(scrapeOffset * float64(opts.Scrape))
	for t := start.Add(offset); t.Before(end); t = t.Add(opts.Scrape) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		exp.Advance(t)
		if errs := fake.Scrape(ctx, t); len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
	}
	stop, addr, err := serve(fake)
	if err != nil {
		return nil, err
	}
	return &recording{url: "http://" + addr, from: start.Add(2 * opts.Scrape), to: end.Add(-2 * opts.Scrape), close: stop}, nil
}

// serve serves h on a local port until stop is called.
func serve(h http.Handler) (stop func(), addr string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, ln.Addr().String(), nil
}

// job is one window of one pair.
type job struct {
	si, pair int
	since    time.Time
}

// judgeAll judges every window of every pair.
func judgeAll(ctx context.Context, opts Options, prov *metrics.Prometheus, rec *recording, scenarios []Scenario,
	res *Results, logf func(string, ...any)) error {
	j, err := judge.New(judge.DefaultConfig())
	if err != nil {
		return err
	}
	interval := opts.Stage / time.Duration(opts.Looks)
	span := opts.Stage + interval // a stage and its one extension
	var windows []time.Time
	for t := rec.from; !t.Add(span).After(rec.to); t = t.Add(span) {
		windows = append(windows, t)
	}
	if len(windows) == 0 {
		return errors.New("the recording is shorter than one window")
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	done := 0
	total := len(scenarios) * opts.Pairs * len(windows)
	for range max(opts.Workers, 1) {
		wg.Go(func() {
			w := windowJudge{a: analysis.Analyzer{Judge: j}, prov: prov, interval: interval, looks: opts.Looks, stage: opts.Stage, plans: opts.plans()}
			for jb := range jobs {
				out, err := w.judge(ctx, scenarios[jb.si], model(jb.si, jb.pair), jb.since)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				for name, c := range out {
					k := Key{scenarios[jb.si].Name, name}
					cell := res.Cells[k]
					cell.Windows += c.Windows
					cell.Gaps += c.Gaps
					cell.Rollbacks += c.Rollbacks
					cell.Paused += c.Paused
					cell.NoData += c.NoData
					res.Cells[k] = cell
				}
				done++
				if done%200 == 0 {
					logf("judged %d of %d windows", done, total)
				}
				mu.Unlock()
			}
		})
	}
	logf("judging %d windows: %d scenarios x %d pairs x %d windows of %v", total, len(scenarios), opts.Pairs, len(windows), span)
feed:
	for si := range scenarios {
		for p := range opts.Pairs {
			for _, w := range windows {
				select {
				case jobs <- job{si, p, w}:
				case <-ctx.Done():
					break feed
				}
			}
		}
	}
	close(jobs)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}
