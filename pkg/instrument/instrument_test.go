package instrument

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
)

type sources struct {
	backlogs []queue.Backlog
	err      error
}

func (s sources) CountRollouts(context.Context) (map[store.RolloutState]int, error) {
	return map[store.RolloutState]int{store.RolloutRunning: 2}, s.err
}

func (s sources) Backlogs(context.Context) ([]queue.Backlog, error) { return s.backlogs, s.err }

// The rollout queue's kinds are there at 0 when empty; other kinds show
// as they wait; a failed read leaves the gauges out and counts.
func TestGauges(t *testing.T) {
	tests := []struct {
		name   string
		src    sources
		want   string
		errors float64
	}{
		{"empty queues", sources{}, `
modelgate_queue_jobs{kind="rollout.analysis",queue="rollout",state="pending"} 0
modelgate_queue_jobs{kind="rollout.analysis",queue="rollout",state="running"} 0
modelgate_queue_jobs{kind="rollout.effects",queue="rollout",state="pending"} 0
modelgate_queue_jobs{kind="rollout.effects",queue="rollout",state="running"} 0
modelgate_queue_oldest_due_seconds{kind="rollout.analysis",queue="rollout"} 0
modelgate_queue_oldest_due_seconds{kind="rollout.effects",queue="rollout"} 0
`, 0},
		{"jobs waiting", sources{backlogs: []queue.Backlog{
			{Queue: canary.JobQueue, Kind: canary.JobAnalysis, Pending: 3, Running: 1, Due: 1, OldestDue: 4 * time.Second},
			{Queue: "webhook", Kind: "issue_comment", Pending: 1}}}, `
modelgate_queue_jobs{kind="issue_comment",queue="webhook",state="pending"} 1
modelgate_queue_jobs{kind="issue_comment",queue="webhook",state="running"} 0
modelgate_queue_jobs{kind="rollout.analysis",queue="rollout",state="pending"} 3
modelgate_queue_jobs{kind="rollout.analysis",queue="rollout",state="running"} 1
modelgate_queue_jobs{kind="rollout.effects",queue="rollout",state="pending"} 0
modelgate_queue_jobs{kind="rollout.effects",queue="rollout",state="running"} 0
modelgate_queue_oldest_due_seconds{kind="issue_comment",queue="webhook"} 0
modelgate_queue_oldest_due_seconds{kind="rollout.analysis",queue="rollout"} 4
modelgate_queue_oldest_due_seconds{kind="rollout.effects",queue="rollout"} 0
`, 0},
		{"the store fails", sources{err: errors.New("disk I/O error")}, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			g := NewGauges(reg, tt.src)
			assert.Equal(t, strings.TrimSpace(tt.want), strings.Join(samples(t, reg, "modelgate_queue_"), "\n"))
			assert.Equal(t, tt.errors, testutil.ToFloat64(g.errors), "a failed read of the store counts, each")
		})
	}
}

// samples renders the samples of the families named with one of the
// prefixes, one "name{labels} value" a line, as Prometheus sorts them.
func samples(t *testing.T, g prometheus.Gatherer, prefixes ...string) []string {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	var out []string
	for _, f := range families {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(f.GetName(), p) }) {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			value := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			name := f.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			out = append(out, fmt.Sprintf("%s %g", name, value))
		}
	}
	return out
}
