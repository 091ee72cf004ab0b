package metrics

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLongestRange(t *testing.T) {
	for _, tt := range []struct {
		query string
		want  time.Duration
	}{
		{`max(model_gpu_memory_bytes{model="{{.Model}}",version="{{.Version}}"}) / 1e6`, 0},
		{`histogram_quantile(0.99, sum by (le)(rate(x_bucket{version="{{.Version}}"}[1m])))`, time.Minute},
		{`sum(rate(e[10s])) / sum(rate(t[30s]))`, 30 * time.Second},
		{`max_over_time(rate(x[1m])[5m:10s])`, 5 * time.Minute},
	} {
		got, err := LongestRange(tt.query)
		require.NoError(t, err, tt.query)
		assert.Equal(t, tt.want, got, tt.query)
	}
	_, err := LongestRange(`sum(rate(x[1m])`)
	require.ErrorIs(t, err, ErrBadQuery)
	assert.ErrorContains(t, err, "unclosed left parenthesis")
}

func TestCheckSelector(t *testing.T) {
	require.NoError(t, CheckSelector(`model_requests_total{model="{{.Model}}",version="{{.Version}}",code=~"5.."}`))
	for _, tt := range []struct{ template, want string }{
		{`sum(model_requests_total{version="{{.Version}}"})`, "is a aggregation, want a series selector"},
		{`rate(model_requests_total[1m])`, "is a call of rate(), want a series selector"},
		{`model_requests_total[1m]`, "is a range selector"},
		{`{version="{{.Version}}"}`, "has no metric name"},
		{`model_requests_total offset 5m`, "has an offset or @ modifier"},
		{`model_requests_total{version={{.Version}}}`, "must be inside a double-quoted string"},
	} {
		err := CheckSelector(tt.template)
		require.ErrorIs(t, err, ErrBadQuery, tt.template)
		assert.ErrorContains(t, err, tt.want)
	}
}

func TestBucketSelector(t *testing.T) {
	got, err := bucketSelector(`model_latency_seconds{model="m",version=~"1\\.0\\.0"}`)
	require.NoError(t, err)
	assert.Equal(t, `model_latency_seconds_bucket{model="m",version=~"1\\.0\\.0"}`, got)
	_, err = bucketSelector(`model_latency_seconds{le="0.1"}`)
	assert.ErrorContains(t, err, "selects on le")
}

// The count query reads the counters themselves; with a lookback, each
// series' latest sample within it, which skips staleness markers.
func TestCountQuery(t *testing.T) {
	for _, tt := range []struct {
		name string
		q    CountQuery
		want string
	}{
		{"a counter", CountQuery{Selector: `model_requests_total{version="{{.Version}}"}`, Model: "m", Version: "1.0.0"},
			`model_requests_total{version="1.0.0"}`},
		{"a counter with a lookback", CountQuery{Selector: `model_requests_total{version="{{.Version}}"}`, Model: "m", Version: "1.0.0", Lookback: 3 * time.Second},
			`last_over_time(model_requests_total{version="1.0.0"}[3s])`},
		{"buckets with a lookback", CountQuery{Selector: `model_latency_seconds{version="{{.Version}}"}`, Model: "m", Version: "1.0.0", Buckets: true, Lookback: 1500 * time.Millisecond},
			`last_over_time(model_latency_seconds_bucket{version="1.0.0"}[1s500ms])`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := countSelector(tt.q)
			require.NoError(t, err)
			assert.Equal(t, tt.want, bridged(sel, tt.q.Lookback))
		})
	}
	_, err := countSelector(CountQuery{Selector: `rate(model_requests_total[1m])`, Model: "m", Version: "1.0.0", Lookback: time.Second})
	assert.ErrorIs(t, err, ErrBadQuery, "still only a selector")
}

// stream is a series with values at the given slice ends (NaN: none).
func stream(labels model.LabelSet, start time.Time, step time.Duration, values ...float64) *model.SampleStream {
	s := &model.SampleStream{Metric: model.Metric(labels)}
	for i, v := range values {
		if math.IsNaN(v) {
			continue
		}
		at := start.Add(time.Duration(i) * step)
		s.Values = append(s.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(at.UnixNano()), Value: model.SampleValue(v)})
	}
	return s
}

func TestIncrements(t *testing.T) {
	start := time.Unix(1764064800, 0)
	q := CountQuery{Start: start, Slice: 2 * time.Second, Slices: 3}
	none := math.NaN()
	pod := func(name string) model.LabelSet { return model.LabelSet{"pod": model.LabelValue(name)} }
	t.Run("summed over series, a new series from 0, a gone one adds nothing after", func(t *testing.T) {
		got, err := increments(model.Matrix{
			stream(pod("a"), start, q.Slice, 100, 110, 130, 160),
			stream(pod("b"), start, q.Slice, none, 5, 9, none),
			stream(pod("c"), start, q.Slice, 7, 8, none, none),
		}, q, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string][]float64{"": {10 + 5 + 1, 20 + 4, 30}}, got.Groups)
		assert.Equal(t, 3, got.Series)
	})
	t.Run("a failed scrape moves a slice's requests to the next", func(t *testing.T) {
		got, err := increments(model.Matrix{stream(pod("a"), start, q.Slice, 100, 110, none, 120)}, q, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string][]float64{"": {10, 0, 10}}, got.Groups)
		assert.Equal(t, 1, got.Gaps)
	})
	t.Run("a value the lookback carried over a gap in Prometheus's own scraping is no value", func(t *testing.T) {
		fresh := 500 * time.Millisecond
		got, err := increments(model.Matrix{stream(pod("a"), start, q.Slice, 100, 100, 130, 160)}, q,
			[]time.Duration{fresh, time.Minute, fresh, fresh})
		require.NoError(t, err)
		assert.Equal(t, map[string][]float64{"": {0, 30, 30}}, got.Groups)
		assert.Equal(t, 1, got.Gaps)
		_, err = increments(model.Matrix{stream(pod("a"), start, q.Slice, 100, 100, 130, 160)}, q,
			[]time.Duration{time.Minute, time.Minute + 2*time.Second, fresh, fresh})
		assert.ErrorContains(t, err, "no series has a value at the window's start 2025-11-25T10:00:00Z: the newest sample is 1m0s old, "+
			"Prometheus was not scraping (down, or just restarted); the first fresh value appears 4s later")
		_, err = increments(model.Matrix{stream(pod("a"), start, q.Slice, 100, 110, 130, 160)}, q,
			[]time.Duration{StaleSlices * q.Slice, 0, -1, fresh})
		assert.NoError(t, err, "as old as StaleSlices is fresh")
	})
	t.Run("a sparse selector's series may appear late", func(t *testing.T) {
		qs := q
		qs.Sparse = true
		got, err := increments(model.Matrix{stream(pod("a"), start, q.Slice, none, none, 3, 10)}, qs, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string][]float64{"": {0, 3, 7}}, got.Groups, "counted from 0 at its first value")
		_, err = increments(model.Matrix{stream(pod("a"), start, q.Slice, none, none, 3, 10)}, q, nil)
		assert.ErrorContains(t, err, "no series has a value at the window's start", "a total may not start late")
	})
	t.Run("buckets by le", func(t *testing.T) {
		qb := q
		qb.Buckets = true
		got, err := increments(model.Matrix{
			stream(model.LabelSet{"le": "0.1"}, start, q.Slice, 1, 2, 3, 4),
			stream(model.LabelSet{"le": "+Inf"}, start, q.Slice, 1, 3, 5, 7),
		}, qb, nil)
		require.NoError(t, err)
		assert.Equal(t, map[string][]float64{"0.1": {1, 1, 1}, "+Inf": {2, 2, 2}}, got.Groups)
		les, names, err := got.Bounds()
		require.NoError(t, err)
		assert.Equal(t, []float64{0.1, math.Inf(1)}, les)
		assert.Equal(t, []string{"0.1", "+Inf"}, names)
	})
	for _, tt := range []struct {
		name   string
		matrix model.Matrix
		want   string
	}{
		{"nothing", nil, "no series: the selector matches nothing"},
		{"reset", model.Matrix{stream(pod("a"), start, q.Slice, 100, 110, 3, 10)},
			`{pod="a"} went down from 110 to 3 by 2025-11-25T10:00:04Z: a counter reset`},
		{"missing window end", model.Matrix{stream(pod("a"), start, q.Slice, 100, 110, 115, none)},
			"no series has a value at 2025-11-25T10:00:06Z, the end of the window (slice 3 of 3): the target was not scraped"},
		{"appears after the window opened", model.Matrix{stream(pod("a"), start, q.Slice, none, none, 3, 10)},
			"no series has a value at the window's start 2025-11-25T10:00:00Z; the first appears 4s later"},
		{"NaN", model.Matrix{stream(pod("a"), start, q.Slice, 1, 2, math.Inf(1), 3)}, `{pod="a"} is +Inf at 2025-11-25T10:00:04Z`},
		{"a series without values", model.Matrix{stream(pod("a"), start, q.Slice, none, none, none, none)},
			"the selector's series have no value in the window"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := increments(tt.matrix, q, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestBoundsRefuseBadBuckets(t *testing.T) {
	for _, tt := range []struct {
		groups map[string][]float64
		want   string
	}{
		{map[string][]float64{"0.1": {1}}, "want at least one finite le and +Inf"},
		{map[string][]float64{"0.1": {1}, "+Inf": {1}, "fast": {1}}, `le "fast" is not a bucket bound`},
		{map[string][]float64{"0.1": {1}, "0.10": {1}, "+Inf": {1}}, `le "0.1" and "0.10" are the same bound`},
	} {
		_, _, err := Increments{Groups: tt.groups}.Bounds()
		require.ErrorIs(t, err, ErrNoCounts)
		assert.ErrorContains(t, err, tt.want)
	}
}

func TestLongestScrape(t *testing.T) {
	d, err := longestScrape("global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_interval: 1m30s\n")
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, d)
	d, err = longestScrape("scrape_configs: []\n")
	require.NoError(t, err)
	assert.Equal(t, time.Minute, d, "Prometheus's default")
	_, err = longestScrape("global: {scrape_interval: soon}\n")
	assert.ErrorContains(t, err, `scrape_interval "soon"`)
}

// FuzzIncrements feeds arbitrary answers of Prometheus (series with or
// without values at each slice end, rising or not): no panic, and counts it
// accepts are finite, non-negative and add up to what the counters rose by.
func FuzzIncrements(f *testing.F) {
	f.Add([]byte{1, 10, 20, 30, 2, 0, 5, 9}, uint8(3))
	f.Add([]byte{0, 0, 0, 0}, uint8(1))
	f.Add([]byte{5, 4, 3}, uint8(2))
	start := time.Unix(1764064800, 0)
	f.Fuzz(func(t *testing.T, data []byte, slices uint8) {
		q := CountQuery{Start: start, Slice: time.Second, Slices: int(slices%6) + 1}
		ends := q.Slices + 1
		var matrix model.Matrix
		for i := 0; i+ends <= len(data); i += ends {
			vals := make([]float64, ends)
			for j, b := range data[i : i+ends] {
				vals[j] = float64(b)
				if b == 0 {
					vals[j] = math.NaN() // no value at this end
				}
			}
			matrix = append(matrix, stream(model.LabelSet{"i": model.LabelValue(strconv.Itoa(i))}, start, time.Second, vals...))
		}
		got, err := increments(matrix, q, nil)
		if err != nil {
			return
		}
		var total float64
		for _, x := range got.Groups[""] {
			if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("bad increment %v in %v", x, got.Groups)
			}
			total += x
		}
		var rose float64
		for _, s := range matrix {
			if len(s.Values) == 0 {
				continue
			}
			first, last := float64(s.Values[0].Value), float64(s.Values[len(s.Values)-1].Value)
			if s.Values[0].Timestamp.Time().After(start) {
				first = 0 // created during the window
			}
			rose += last - first
		}
		if math.Abs(total-rose) > 1e-9 {
			t.Fatalf("increments add up to %v, the counters rose by %v", total, rose)
		}
	})
}
