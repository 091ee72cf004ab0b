package analysis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/judge/jsonl"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// fake answers from functions of the query, and records the queries.
type fake struct {
	scrape  time.Duration
	counts  func(q metrics.CountQuery) (metrics.Increments, error)
	samples func(q metrics.Query) (metrics.Series, error)
	asked   []string
}

func (f *fake) ScrapeInterval(context.Context) (time.Duration, error) {
	if f.scrape == 0 {
		return 0, &metrics.Error{Kind: metrics.ErrUnavailable, Msg: "connection refused"}
	}
	return f.scrape, nil
}

func (f *fake) Counts(_ context.Context, q metrics.CountQuery) (metrics.Increments, error) {
	f.asked = append(f.asked, fmt.Sprintf("counts %s %s from %s: %d x %v", q.Selector, q.Version, q.Start.Format("15:04:05"), q.Slices, q.Slice))
	return f.counts(q)
}

func (f *fake) Samples(_ context.Context, q metrics.Query) (metrics.Series, error) {
	f.asked = append(f.asked, fmt.Sprintf("samples %s %s %s to %s step %v", q.Template, q.Version,
		q.Start.Format("15:04:05"), q.End.Format("15:04:05"), q.Step))
	return f.samples(q)
}

var since = time.Date(2025, 11, 25, 10, 0, 0, 0, time.UTC)

// perSlice returns increments of per on each slice.
func perSlice(q metrics.CountQuery, per float64) metrics.Increments {
	incs := make([]float64, q.Slices)
	for i := range incs {
		incs[i] = per
	}
	return metrics.Increments{Groups: map[string][]float64{"": incs}, Series: 1}
}

func ratioPlan() []rollout.Metric {
	return []rollout.Metric{{Name: "error_rate", Kind: rollout.KindRatio, Errors: "errs", Total: "total",
		Direction: "increase_is_bad", Tolerance: 0.05, Critical: true}}
}

// traffic serves requests per slice per version, and errors.
func traffic(requests, errs map[string]float64) func(q metrics.CountQuery) (metrics.Increments, error) {
	return func(q metrics.CountQuery) (metrics.Increments, error) {
		if q.Selector == "total" {
			return perSlice(q, requests[q.Version]), nil
		}
		return perSlice(q, errs[q.Version]), nil
	}
}

func request(ms []rollout.Metric, look, planned int, traffic float64) Request {
	return Request{Metrics: ms, Model: "fraud", Baseline: "1.0.0", Canary: "2.0.0", Since: since,
		Interval: 10 * time.Second, Look: judge.Look{Index: look, Planned: planned}, Traffic: traffic}
}

func analyzer(t *testing.T) Analyzer {
	t.Helper()
	j, err := judge.New(judge.DefaultConfig())
	require.NoError(t, err)
	return Analyzer{Judge: j}
}

func TestRatioLook(t *testing.T) {
	f := &fake{scrape: time.Second, counts: traffic(map[string]float64{"1.0.0": 380, "2.0.0": 20},
		map[string]float64{"1.0.0": 2, "2.0.0": 0.1})}
	got, err := analyzer(t).Look(context.Background(), f, request(ratioPlan(), 3, 6, 5))
	require.NoError(t, err)
	assert.Equal(t, Pass, got.Outcome, got.Reason)
	assert.Equal(t, since.Add(30*time.Second), got.End)
	assert.Equal(t, []string{
		"counts total 1.0.0 from 10:00:00: 30 x 1s", "counts errs 1.0.0 from 10:00:00: 30 x 1s",
		"counts total 2.0.0 from 10:00:00: 30 x 1s", "counts errs 2.0.0 from 10:00:00: 30 x 1s",
	}, f.asked, "10 slices per interval of 10s, 3 intervals")
	require.NotNil(t, got.Split)
	assert.InDelta(t, 5, got.Split.Share(), 1e-9)
	assert.Len(t, got.Inputs[0].Ratio.Canary.Total, 30)
	assert.Equal(t, rollout.AnalysisResult{Decision: "pass", Reason: "score 100", Look: 3}, got.Event())
	assert.Len(t, got.Reads[0].Times, 30)
	assert.Equal(t, since.Add(time.Second), got.Reads[0].Times[0])

	// The stored line replays the look.
	line, err := got.Line("r1")
	require.NoError(t, err)
	js, err := jsonl.NewJudges(jsonl.DefaultConfig())
	require.NoError(t, err)
	assert.Contains(t, string(jsonl.Judge(js, 1, line)), `"decision":"pass"`)
}

func TestSlicesNeverShorterThanTheScrape(t *testing.T) {
	f := &fake{scrape: 3 * time.Second, counts: traffic(map[string]float64{"1.0.0": 100, "2.0.0": 100}, nil)}
	_, err := analyzer(t).Look(context.Background(), f, request(ratioPlan(), 1, 6, 50))
	require.NoError(t, err)
	assert.Contains(t, f.asked[0], ": 3 x 3s")
}

func TestErrorsWithoutSeriesAreNoErrors(t *testing.T) {
	f := &fake{scrape: time.Second, counts: func(q metrics.CountQuery) (metrics.Increments, error) {
		if q.Selector == "errs" {
			return metrics.Increments{}, &metrics.Error{Kind: metrics.ErrNoCounts, Err: fmt.Errorf("%w: nothing", metrics.ErrNoSeries)}
		}
		return perSlice(q, 200), nil
	}}
	got, err := analyzer(t).Look(context.Background(), f, request(ratioPlan(), 2, 6, 50))
	require.NoError(t, err)
	assert.Equal(t, Pass, got.Outcome, got.Reason)
	assert.Equal(t, []string{"baseline: the errors selector has no series; counted as no error",
		"canary: the errors selector has no series; counted as no error"}, got.Reads[0].Notes)
}

func TestTrafficMismatch(t *testing.T) {
	for _, tt := range []struct {
		name     string
		canary   float64
		shifted  float64
		traffic  float64
		mismatch string
	}{
		{"shifted everything", 400, 390, 5, "the canary served 97.6 % of the requests"},
		{"shifted nothing", 0, 0, 5, "the canary served 0.0 % of the requests (0 of 12000 counted by error_rate), the stage puts 5 % on it"},
		{"a share of 3.6 % at 5 % is still the stage", 15, 0, 5, ""},
		{"at 50 %", 200, 0, 50, ""},
		{"a tenth at 50 % is off", 40, 0, 50, "the canary served 9.1 % of the requests"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{scrape: time.Second, counts: traffic(map[string]float64{"1.0.0": 400 - tt.shifted, "2.0.0": tt.canary},
				map[string]float64{"1.0.0": 2})}
			got, err := analyzer(t).Look(context.Background(), f, request(ratioPlan(), 3, 6, tt.traffic))
			require.NoError(t, err)
			if tt.mismatch == "" {
				assert.NotEqual(t, TrafficMismatch, got.Outcome, got.Reason)
				return
			}
			assert.Equal(t, TrafficMismatch, got.Outcome)
			assert.Contains(t, got.Reason, tt.mismatch)
			assert.Equal(t, rollout.TrafficMismatch{Look: 3, Reason: got.Reason}, got.Event())
		})
	}
}

func TestProviderProblems(t *testing.T) {
	ctx := context.Background()
	got, err := analyzer(t).Look(ctx, &fake{}, request(ratioPlan(), 1, 6, 5))
	require.NoError(t, err)
	assert.Equal(t, NoData, got.Outcome)
	assert.Equal(t, "metrics provider unavailable: connection refused", got.Reason)
	assert.Equal(t, rollout.AnalysisUnavailable{Look: 1, Reason: got.Reason}, got.Event())

	down := &fake{scrape: time.Second, counts: func(metrics.CountQuery) (metrics.Increments, error) {
		return metrics.Increments{}, &metrics.Error{Kind: metrics.ErrUnavailable, Msg: "503"}
	}}
	got, err = analyzer(t).Look(ctx, down, request(ratioPlan(), 1, 6, 5))
	require.NoError(t, err)
	assert.Equal(t, NoData, got.Outcome)
	assert.Equal(t, "error_rate: baseline 1.0.0: total: metrics provider unavailable: 503", got.Reason)

	reset := &fake{scrape: time.Second, counts: func(q metrics.CountQuery) (metrics.Increments, error) {
		if q.Version == "2.0.0" {
			return metrics.Increments{}, &metrics.Error{Kind: metrics.ErrNoCounts, Msg: "total went down from 9 to 1"}
		}
		return perSlice(q, 100), nil
	}}
	ms := append(ratioPlan(), rollout.Metric{Name: "other", Kind: rollout.KindRatio, Errors: "errs", Total: "total2",
		Direction: "increase_is_bad", Tolerance: 0.05})
	got, err = analyzer(t).Look(ctx, reset, request(ms, 1, 6, 5))
	require.NoError(t, err)
	assert.Equal(t, NoData, got.Outcome, "no metric has data")
	assert.Contains(t, got.Reason, "error_rate: canary 2.0.0: total: counters cannot be counted: total went down from 9 to 1")
	assert.Equal(t, judge.NoData, got.Report.Metrics[0].Verdict)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = analyzer(t).Look(cancelled, &fake{}, request(ratioPlan(), 1, 6, 5))
	require.ErrorIs(t, err, context.Canceled)
}

func TestHistogramLook(t *testing.T) {
	// Cumulative buckets per slice: 90 % under 0.1, 99 % under 0.25.
	buckets := func(scale float64) func(q metrics.CountQuery) (metrics.Increments, error) {
		return func(q metrics.CountQuery) (metrics.Increments, error) {
			require.True(t, q.Buckets)
			g := map[string][]float64{}
			for le, v := range map[string]float64{"0.1": 900, "0.25": 990, "0.5": 999, "+Inf": 1000} {
				for range q.Slices {
					g[le] = append(g[le], v*scale)
				}
			}
			return metrics.Increments{Groups: g}, nil
		}
	}
	ms := []rollout.Metric{{Name: "latency_p99", Kind: rollout.KindHistogram, Histogram: "lat", Quantile: 0.99,
		Direction: "increase_is_bad", Tolerance: 0.05, Critical: true}}
	got, err := analyzer(t).Look(context.Background(), &fake{scrape: time.Second, counts: buckets(1)}, request(ms, 2, 6, 50))
	require.NoError(t, err)
	assert.Equal(t, Pass, got.Outcome, got.Reason)
	h := got.Inputs[0].Histogram
	assert.Equal(t, []float64{900, 90, 9, 1}, h.Canary[0], "per bucket, not cumulative")
	assert.InDelta(t, 0.25, got.Report.Metrics[0].Baseline, 1e-9)
	require.NotNil(t, got.Split)
	assert.InDelta(t, 50, got.Split.Share(), 1e-9)
}

func TestQueryLook(t *testing.T) {
	ms := []rollout.Metric{{Name: "p99", Kind: rollout.KindQuery,
		Query:     `histogram_quantile(0.99, sum by (le)(rate(lat_bucket{version="{{.Version}}"}[5s])))`,
		Direction: "increase_is_bad", Tolerance: 0.05}}
	f := &fake{scrape: time.Second, samples: func(q metrics.Query) (metrics.Series, error) {
		var s metrics.Series
		for i, at := 0, q.Start; !at.After(q.End); i, at = i+1, at.Add(q.Step) {
			s.Samples = append(s.Samples, metrics.Sample{Time: at, Value: 100 + float64(i%3)})
		}
		return s, nil
	}}
	got, err := analyzer(t).Look(context.Background(), f, request(ms, 6, 6, 50))
	require.NoError(t, err)
	assert.Equal(t, []string{
		`samples histogram_quantile(0.99, sum by (le)(rate(lat_bucket{version="{{.Version}}"}[5s]))) 1.0.0 10:00:05 to 10:01:00 step 5s`,
		`samples histogram_quantile(0.99, sum by (le)(rate(lat_bucket{version="{{.Version}}"}[5s]))) 2.0.0 10:00:05 to 10:01:00 step 5s`,
	}, f.asked, "the step is the longest range; the first sample reads nothing before the window")
	assert.Equal(t, 5*time.Second, got.Reads[0].Step)
	assert.Len(t, got.Inputs[0].Baseline, 12/got.Reads[0].Batch)
}

func TestEarlyQueryLookIsInconclusive(t *testing.T) {
	ms := []rollout.Metric{{Name: "p99", Kind: rollout.KindQuery, Query: `rate(x{version="{{.Version}}"}[5s])`,
		Direction: "increase_is_bad", Tolerance: 0.05}}
	f := &fake{scrape: time.Second, samples: func(q metrics.Query) (metrics.Series, error) {
		var s metrics.Series
		for at := q.Start; !at.After(q.End); at = at.Add(q.Step) {
			s.Samples = append(s.Samples, metrics.Sample{Time: at, Value: 1})
		}
		return s, nil
	}}
	got, err := analyzer(t).Look(context.Background(), f, request(ms, 1, 6, 50))
	require.NoError(t, err)
	assert.Equal(t, Inconclusive, got.Outcome, "2 samples at look 1 of 6: wait for the window to grow")
	assert.Contains(t, got.Reason, "baseline has 2 samples, need 5")
	got, err = analyzer(t).Look(context.Background(), f, request(ms, 1, 1, 50))
	require.NoError(t, err)
	assert.Equal(t, NoData, got.Outcome, "at the last look, too few samples is no data")
	empty := &fake{scrape: time.Second, samples: func(metrics.Query) (metrics.Series, error) { return metrics.Series{}, nil }}
	got, err = analyzer(t).Look(context.Background(), empty, request(ms, 1, 6, 50))
	require.NoError(t, err)
	assert.Equal(t, NoData, got.Outcome, "no samples at all is no data at any look")
}

func TestBatchSize(t *testing.T) {
	independent := []float64{1, 3, 2, 3, 1, 2, 1, 3, 2, 1, 3, 2, 3, 1, 2}
	assert.Equal(t, 1, batchSize(independent))
	smooth := make([]float64, 60)
	for i := range smooth {
		smooth[i] = float64(i / 10) // steps of 10 equal values
	}
	assert.Greater(t, batchSize(smooth), 5)
	assert.Equal(t, []float64{2, 5}, batchMeans([]float64{1, 2, 3, 4, 5, 6, 7}, 3), "the short last batch is left out")
}

func TestCheckPlan(t *testing.T) {
	plan := func(interval, window time.Duration, ms ...rollout.Metric) rollout.Plan {
		return rollout.Plan{Stages: []rollout.Stage{{Traffic: 5, Analysis: window}, {Traffic: 100}},
			Analysis: rollout.Analysis{Interval: interval, Metrics: ms}}
	}
	query := func(q string) rollout.Metric {
		return rollout.Metric{Name: "q", Kind: rollout.KindQuery, Query: q, Direction: "increase_is_bad", Tolerance: 0.05}
	}
	require.NoError(t, CheckPlan(plan(10*time.Second, time.Minute, ratioPlan()...)))
	require.NoError(t, CheckPlan(plan(10*time.Second, time.Minute, query(`max(gpu_memory_bytes{version="{{.Version}}"})`))))
	require.NoError(t, CheckPlan(plan(10*time.Second, time.Minute, query(`sum(rate(x{version="{{.Version}}"}[5s]))`))))
	require.NoError(t, CheckPlan(plan(time.Minute, time.Minute, query(`sum(rate(x[1m]))`))), "one look: a fixed-sample test")

	err := CheckPlan(plan(10*time.Second, time.Minute, query(`sum(rate(x{version="{{.Version}}"}[1m]))`)))
	require.Error(t, err)
	assert.Equal(t, "analysis.metrics[0] (q): query: its samples, 1m0s apart so that no two overlap (its longest range is 1m0s), "+
		"give stage 1's 1m0s window 1 independent samples, and a look needs 10 to fail: "+
		"use kind ratio or histogram, a range of at most 6s, or a longer window", err.Error())

	for _, tt := range []struct {
		m    rollout.Metric
		want string
	}{
		{rollout.Metric{Name: "r", Kind: rollout.KindRatio, Errors: "sum(errs)", Total: "total"}, "analysis.metrics[0] (r): errors: bad metrics query: sum(errs) is a aggregation"},
		{rollout.Metric{Name: "r", Kind: rollout.KindRatio, Errors: "errs", Total: "rate(total[1m])"}, "total: bad metrics query"},
		{rollout.Metric{Name: "h", Kind: rollout.KindHistogram, Histogram: "lat{le=~\"..\"} offset 1m"}, "histogram: bad metrics query"},
		{query("sum(rate(x[1m])"), "query: bad metrics query"},
	} {
		err := CheckPlan(plan(10*time.Second, time.Minute, tt.m))
		require.Error(t, err)
		assert.True(t, errors.Is(err, metrics.ErrBadQuery), err.Error())
		assert.True(t, strings.Contains(err.Error(), tt.want), err.Error())
	}
}

// A look without data says whether the provider answered it: the state
// machine ends an outage's pause on an answer, and only on one.
func TestNoDataSaysWhetherTheProviderAnswered(t *testing.T) {
	down := Judged{Outcome: NoData, Reason: "connection refused", Look: judge.Look{Index: 2, Planned: 3}}
	assert.Equal(t, rollout.AnalysisUnavailable{Look: 2, Reason: "connection refused"}, down.Event())
	empty := Judged{Outcome: NoData, Reason: "no data", Look: judge.Look{Index: 2, Planned: 3}, Answered: true}
	assert.Equal(t, rollout.AnalysisUnavailable{Look: 2, Reason: "no data", NoData: true}, empty.Event())

	j, err := judge.New(judge.DefaultConfig())
	require.NoError(t, err)
	r := Request{Look: judge.Look{Index: 1, Planned: 3}}
	unavailable := Analyzer{Judge: j}.Decide(r, Data{Unavailable: "connection refused"})
	assert.False(t, unavailable.Answered, "a provider that did not answer")
}
