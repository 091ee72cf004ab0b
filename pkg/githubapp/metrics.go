package githubapp

import (
	"strconv"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/prometheus/client_golang/prometheus"
)

// WebhookMetrics counts and times webhook acknowledgments.
type WebhookMetrics struct {
	acks    *prometheus.CounterVec
	latency prometheus.Histogram
}

// NewWebhookMetrics registers the webhook metrics with reg.
func NewWebhookMetrics(reg prometheus.Registerer) *WebhookMetrics {
	m := &WebhookMetrics{
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_webhook_deliveries_total",
			Help: "Webhook deliveries answered, by HTTP status and outcome.",
		}, []string{"code", "outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "modelgate_webhook_ack_seconds",
			Help:    "Time from request to acknowledgment.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .5, 1, 5},
		}),
	}
	reg.MustRegister(m.acks, m.latency)
	return m
}

func (m *WebhookMetrics) observe(status int, msg string, d time.Duration) {
	if m == nil {
		return
	}
	outcome, _, _ := strings.Cut(msg, ":")
	if len(outcome) > 24 || status >= 400 {
		outcome = "refused"
	}
	m.acks.WithLabelValues(strconv.Itoa(status), outcome).Inc()
	m.latency.Observe(d.Seconds())
}

// WorkerMetrics counts processed deliveries; it is the delivery worker's
// queue.Observer.
type WorkerMetrics struct {
	processed *prometheus.CounterVec
	duration  prometheus.Histogram
	backlog   prometheus.Gauge
}

// NewWorkerMetrics registers the worker metrics with reg.
func NewWorkerMetrics(reg prometheus.Registerer) *WorkerMetrics {
	m := &WorkerMetrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_deliveries_processed_total",
			Help: "Deliveries taken from the queue, by event and result (done, retry, failed, lost: another worker took it over).",
		}, []string{"event", "result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "modelgate_delivery_processing_seconds",
			Help:    "Time to process one delivery.",
			Buckets: prometheus.DefBuckets,
		}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "modelgate_deliveries_claimed",
			Help: "Deliveries claimed by workers and not yet completed.",
		}),
	}
	reg.MustRegister(m.processed, m.duration, m.backlog)
	return m
}

// Holding counts deliveries leased to the worker, by delta.
func (m *WorkerMetrics) Holding(delta int) { m.backlog.Add(float64(delta)) }

// Ran counts one delivery processed.
func (m *WorkerMetrics) Ran(j queue.Job, result string, took time.Duration) {
	m.processed.WithLabelValues(j.Kind, result).Inc()
	m.duration.Observe(took.Seconds())
}

// TookOver does nothing: the queue's take-overs are counted for every
// queue alike (pkg/instrument).
func (m *WorkerMetrics) TookOver(queue.Job) {}

var _ queue.Observer = (*WorkerMetrics)(nil)

// APIMetrics counts GitHub API calls.
type APIMetrics struct {
	calls   *prometheus.CounterVec
	retries *prometheus.CounterVec
}

// NewAPIMetrics registers the GitHub API metrics with reg.
func NewAPIMetrics(reg prometheus.Registerer) *APIMetrics {
	m := &APIMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_github_requests_total",
			Help: "GitHub API requests sent, by method and status code.",
		}, []string{"method", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_github_retries_total",
			Help: "GitHub API requests retried, by reason (server_error, rate_limit, network) and the status code that made them retry (error for none).",
		}, []string{"reason", "code"}),
	}
	reg.MustRegister(m.calls, m.retries)
	return m
}
