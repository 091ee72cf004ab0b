// Package instrument is the rollout engine's and the queue's Prometheus
// metrics: what the engine decided (stages started, rollbacks by reason,
// judge verdicts per metric, looks and their lag), what the queue holds
// (jobs per queue and kind, how long the oldest due job has waited) and
// the leases it took over, and the rollouts by state. The webhook intake's
// and the GitHub client's own metrics live with them in pkg/githubapp.
// Everything is registered on the registry it is given.
package instrument

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
)

// Engine counts the rollout engine's decisions; it is a canary.Observer.
type Engine struct {
	stages    *prometheus.CounterVec
	rollbacks *prometheus.CounterVec
	promoted  prometheus.Counter
	verdicts  *prometheus.CounterVec
	looks     *prometheus.CounterVec
	lag       prometheus.Histogram
}

var _ canary.Observer = (*Engine)(nil)

// NewEngine registers the engine's metrics with reg.
func NewEngine(reg prometheus.Registerer) *Engine {
	m := &Engine{
		stages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_rollout_stages_started_total",
			Help: "Stages whose deployment the bot created, by task (deploy:canary, deploy:promote).",
		}, []string{"task"}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_rollbacks_total",
			Help: "Rollouts that sent the traffic back to the baseline, by state (rolled_back, aborted, failed) and " +
				"reason (analysis, command, released, deployment_failed).",
		}, []string{"state", "reason"}),
		promoted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "modelgate_rollouts_promoted_total",
			Help: "Rollouts promoted to 100 % after every stage passed.",
		}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_judge_verdicts_total",
			Help: "The judge's verdicts on each metric of a look, by metric name (from the plans) and verdict (pass, fail, nodata).",
		}, []string{"metric", "verdict"}),
		looks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_analysis_looks_total",
			Help: "Looks of analysis windows judged, by decision (pass, fail, inconclusive, nodata).",
		}, []string{"decision"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "modelgate_analysis_look_lag_seconds",
			Help:    "How long after its planned time a look was judged.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900},
		}),
	}
	reg.MustRegister(m.stages, m.rollbacks, m.promoted, m.verdicts, m.looks, m.lag)
	return m
}

// StageStarted counts a stage deployed.
func (m *Engine) StageStarted(task string) { m.stages.WithLabelValues(task).Inc() }

// Ended counts a rollout's end.
func (m *Engine) Ended(state, reason string) {
	if state == store.RolloutPromoted {
		m.promoted.Inc()
		return
	}
	m.rollbacks.WithLabelValues(state, reason).Inc()
}

// Judged counts a look, its verdicts and its lag.
func (m *Engine) Judged(l *canary.Look, lag time.Duration) {
	if l == nil {
		return
	}
	m.looks.WithLabelValues(l.Decision).Inc()
	for _, metric := range l.Metrics {
		m.verdicts.WithLabelValues(metric.Name, metric.Verdict).Inc()
	}
	m.lag.Observe(lag.Seconds())
}

// Queues counts the leases each queue took over from a worker that died.
type Queues struct {
	takeOvers *prometheus.CounterVec
}

// NewQueues registers the take-over counter with reg.
func NewQueues(reg prometheus.Registerer) *Queues {
	q := &Queues{takeOvers: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelgate_queue_leases_taken_over_total",
		Help: "Jobs claimed because the lease of the worker running them ran out (the worker died or stalled), by queue.",
	}, []string{"queue"})}
	reg.MustRegister(q.takeOvers)
	return q
}

// For returns the Observer of queue name's worker: it counts take-overs
// and passes everything on to next (nil for nothing).
func (q *Queues) For(name string, next queue.Observer) queue.Observer {
	return observer{queue: name, takeOvers: q.takeOvers.WithLabelValues(name), next: next}
}

type observer struct {
	queue     string
	takeOvers prometheus.Counter
	next      queue.Observer
}

func (o observer) Holding(delta int) {
	if o.next != nil {
		o.next.Holding(delta)
	}
}

func (o observer) Ran(j queue.Job, result string, took time.Duration) {
	if o.next != nil {
		o.next.Ran(j, result, took)
	}
}

func (o observer) TookOver(j queue.Job) {
	o.takeOvers.Inc()
	if o.next != nil {
		o.next.TookOver(j)
	}
}

// Sources are what the gauges read at each scrape.
type Sources interface {
	CountRollouts(ctx context.Context) (map[store.RolloutState]int, error)
	Backlogs(ctx context.Context) ([]queue.Backlog, error)
}

// scrapeTimeout bounds the store's reads of one scrape.
const scrapeTimeout = 2 * time.Second

// Gauges reads the rollouts by state and the queues' backlogs from the
// store at each scrape; a failed read leaves its metrics out of that
// scrape, and counts in modelgate_scrape_errors_total.
type Gauges struct {
	src       Sources
	rollouts  *prometheus.Desc
	jobs      *prometheus.Desc
	oldestDue *prometheus.Desc
	errors    prometheus.Counter
}

// NewGauges registers the gauges on src with reg.
func NewGauges(reg prometheus.Registerer, src Sources) *Gauges {
	g := &Gauges{src: src,
		rollouts: prometheus.NewDesc("modelgate_rollouts", "Rollouts in the store, by state.", []string{"state"}, nil),
		jobs: prometheus.NewDesc("modelgate_queue_jobs", "Jobs waiting (pending) or leased (running), by queue, kind and state.",
			[]string{"queue", "kind", "state"}, nil),
		oldestDue: prometheus.NewDesc("modelgate_queue_oldest_due_seconds",
			"How long the oldest job that is due and not yet claimed has waited past its due time, by queue and kind.",
			[]string{"queue", "kind"}, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "modelgate_scrape_errors_total",
			Help: "Scrapes whose reads of the store failed, leaving out the rollout and queue gauges."}),
	}
	reg.MustRegister(g, g.errors)
	return g
}

// Describe sends the gauges' descriptions.
func (g *Gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.rollouts
	ch <- g.jobs
	ch <- g.oldestDue
}

// Collect reads the store and sends the gauges.
func (g *Gauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := g.src.CountRollouts(ctx)
	if err != nil {
		g.errors.Inc()
	}
	for _, state := range []store.RolloutState{store.RolloutPending, store.RolloutRunning, store.RolloutPaused,
		store.RolloutPromoted, store.RolloutRolledBack, store.RolloutAborted, store.RolloutFailed} {
		if err == nil {
			ch <- prometheus.MustNewConstMetric(g.rollouts, prometheus.GaugeValue, float64(counts[state]), state)
		}
	}
	backlogs, err := g.src.Backlogs(ctx)
	if err != nil {
		g.errors.Inc()
		return
	}
	for _, b := range withRolloutKinds(backlogs) {
		ch <- prometheus.MustNewConstMetric(g.jobs, prometheus.GaugeValue, float64(b.Pending), b.Queue, b.Kind, string(queue.Pending))
		ch <- prometheus.MustNewConstMetric(g.jobs, prometheus.GaugeValue, float64(b.Running), b.Queue, b.Kind, string(queue.Running))
		ch <- prometheus.MustNewConstMetric(g.oldestDue, prometheus.GaugeValue, b.OldestDue.Seconds(), b.Queue, b.Kind)
	}
}

// withRolloutKinds adds the rollout queue's kinds that hold no job, at
// 0: their series are always there, for rules to compare; the webhook
// queue's kinds (event names) show once a job of theirs waits.
func withRolloutKinds(backlogs []queue.Backlog) []queue.Backlog {
	out := slices.Clone(backlogs)
	for _, kind := range []string{canary.JobEffects, canary.JobAnalysis} {
		if !slices.ContainsFunc(backlogs, func(b queue.Backlog) bool { return b.Queue == canary.JobQueue && b.Kind == kind }) {
			out = append(out, queue.Backlog{Queue: canary.JobQueue, Kind: kind})
		}
	}
	return out
}
