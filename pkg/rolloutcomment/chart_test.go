package rolloutcomment

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// every returns n samples step apart from start, valued by f(i).
func every(start time.Time, step time.Duration, n int, f func(i int) float64) []Point {
	ps := make([]Point, n)
	for i := range ps {
		ps[i] = Point{T: start.Add(time.Duration(i) * step), V: f(i)}
	}
	return ps
}

func constant(v float64) func(int) float64 { return func(int) float64 { return v } }

func TestBucket(t *testing.T) {
	start := t0()
	tests := []struct {
		name         string
		since        time.Time
		base, canary []Point
		width, unit  time.Duration
		wantBase     []float64
		wantCanary   []float64
		why          string
	}{
		{
			name: "few samples keep one point each", base: every(start, time.Minute, 4, func(i int) float64 { return float64(i) }),
			canary: every(start, time.Minute, 4, constant(5)), width: time.Minute, unit: time.Minute,
			wantBase: []float64{0, 1, 2, 3}, wantCanary: []float64{5, 5, 5, 5},
		},
		{
			name: "means per bucket", base: every(start, 30*time.Second, 8, func(i int) float64 { return float64(i) }),
			canary: every(start, time.Minute, 4, constant(1)), width: 30 * time.Second, unit: time.Second,
			wantBase: []float64{0, 1, 2, 3, 4, 5, 6, 7}, wantCanary: []float64{1, 1, 1, 1, 1, 1, 1, 1},
		},
		{
			name: "gaps are interpolated, ends carried", since: start,
			base:   []Point{{start.Add(2 * time.Minute), 2}, {start.Add(4 * time.Minute), 4}},
			canary: every(start, time.Minute, 6, constant(1)), width: time.Minute, unit: time.Minute,
			wantBase: []float64{2, 2, 2, 3, 4, 4}, wantCanary: []float64{1, 1, 1, 1, 1, 1},
		},
		{
			name: "NaN samples are left out", base: append(every(start, time.Minute, 3, constant(2)), Point{start.Add(3 * time.Minute), math.NaN()}),
			canary: every(start, time.Minute, 4, constant(1)), width: time.Minute, unit: time.Minute,
			wantBase: []float64{2, 2, 2, 2}, wantCanary: []float64{1, 1, 1, 1},
		},
		{name: "no samples", why: "no samples"},
		{name: "no baseline", canary: every(start, time.Minute, 3, constant(1)), why: "no baseline samples"},
		{name: "only NaN on the canary", base: every(start, time.Minute, 3, constant(1)),
			canary: every(start, time.Minute, 3, constant(math.NaN())), why: "no canary samples"},
		{name: "beyond float64 once averaged", base: every(start, time.Minute, 3, constant(math.MaxFloat64)),
			canary: every(start, time.Second, 3, constant(-math.MaxFloat64)), why: "values beyond what a chart can show in plain decimals"},
		{name: "one instant", base: every(start, 0, 3, constant(1)), canary: every(start, 0, 3, constant(2)),
			why: "too few samples for a chart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, why := bucket(tt.since, tt.base, tt.canary, MaxChartPoints)
			assert.Equal(t, tt.why, why)
			if why != "" {
				return
			}
			assert.Equal(t, tt.width, s.width)
			assert.Equal(t, tt.unit, s.unit)
			assert.InDeltaSlice(t, tt.wantBase, s.base, 1e-9)
			assert.InDeltaSlice(t, tt.wantCanary, s.canary, 1e-9)
		})
	}
}

func TestBucketDownsamples(t *testing.T) {
	start := t0()
	for _, tt := range []struct {
		n          int
		step       time.Duration
		width      time.Duration
		wantPoints int
	}{
		{10000, time.Second, 5 * time.Minute, 34},     // 2h46m of one sample a second
		{360, 5 * time.Second, time.Minute, 30},       // a 30m window scraped every 5s
		{10000, time.Minute, 6 * time.Hour, 28},       // a week, by the minute
		{100000, time.Hour, 107 * 24 * time.Hour, 39}, // eleven years: whole days
		{41, time.Second, 2 * time.Second, 21},        // 41 points would be one too many
		{3, 200 * time.Millisecond, time.Second, 0},   // under a second: no chart
		{MaxChartPoints, time.Minute, time.Minute, MaxChartPoints},
	} {
		base := every(start, tt.step, tt.n, func(i int) float64 { return float64(i % 7) })
		s, why := bucket(time.Time{}, base, base, MaxChartPoints)
		if tt.wantPoints == 0 {
			assert.NotEmpty(t, why)
			continue
		}
		require.Empty(t, why)
		assert.Equal(t, tt.width, s.width, "%d samples %s apart", tt.n, tt.step)
		assert.Len(t, s.base, tt.wantPoints, "%d samples %s apart", tt.n, tt.step)
		assert.LessOrEqual(t, len(s.base), MaxChartPoints)
		assert.Len(t, s.canary, len(s.base))
	}
}

func TestBucketStartsAtSince(t *testing.T) {
	start := t0()
	late := every(start.Add(10*time.Minute), time.Minute, 20, func(i int) float64 { return float64(i) })
	s, why := bucket(start, late, late, MaxChartPoints)
	require.Empty(t, why)
	assert.True(t, s.since)
	assert.Equal(t, 2*time.Minute, s.width)
	assert.Len(t, s.base, 15, "the chart begins when the window opened")
	assert.Equal(t, []float64{0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, s.base[:6], "carried back to the start")

	s, _ = bucket(start.Add(12*time.Minute), late, late, MaxChartPoints)
	assert.False(t, s.since, "a since after the first sample is ignored")
	assert.Len(t, s.base, 20)
}

func TestAxisOf(t *testing.T) {
	tests := []struct {
		name   string
		sides  [][]float64
		lo, hi string
		line   string
		ok     bool
	}{
		{"padded and rounded", [][]float64{{114.14, 125.96}, {116.2, 130}}, "112", "132", "114.1 126", true},
		{"never below zero for positive data", [][]float64{{0.001, 0.5}}, "0", "0.55", "0.001 0.5", true},
		{"negative data may go below zero", [][]float64{{-1, 1}}, "-1.2", "1.2", "-1 1", true},
		{"a thousandth of the axis", [][]float64{{0.0021234567, 0.0019}}, "0.00187", "0.00215", "0.002123 0.0019", true},
		{"flat", [][]float64{{5, 5}, {5}}, "4.5", "5.5", "5 5", true},
		{"all zero", [][]float64{{0, 0}}, "0", "1", "0 0", true},
		{"huge", [][]float64{{1e300, 2e300}}, "", "", "", false},
		{"beyond float64", [][]float64{{math.MaxFloat64, -math.MaxFloat64}}, "", "", "", false},
		{"too fine a spread", [][]float64{{1e-300, 2e-300}}, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := axisOf(tt.sides...)
			require.Equal(t, tt.ok, ok)
			if !ok {
				return
			}
			assert.Equal(t, tt.lo, a.format(a.lo))
			assert.Equal(t, tt.hi, a.format(a.hi))
			var line []string
			for _, v := range tt.sides[0] {
				line = append(line, a.format(v))
			}
			assert.Equal(t, tt.line, strings.Join(line, " "))
		})
	}
}

func TestMermaidTitle(t *testing.T) {
	tests := []struct{ in, want string }{
		{"latency_p99_ms", "latency_p99_ms"},
		{"\"]\nclick A call alert()", "click A call alert()"},
		{"</details><img src=x onerror=alert(1)>", "/detailsimg src=x onerror=alert(1)"},
		{"%%{init: {}}%%", "init:"},
		{"`\"#;&", "metric"},
		{"Latenz_ü_日本", "Latenz_ü_日本"},
		{strings.Repeat("a", 100), strings.Repeat("a", maxTitle) + "..."},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, mermaidTitle(tt.in), "mermaidTitle(%q)", tt.in)
	}
}

func TestWriteChart(t *testing.T) {
	var b strings.Builder
	writeChart(&b, "latency", series{width: time.Minute, unit: time.Minute, since: true,
		base: []float64{1, 2.5, 3}, canary: []float64{1.25, 2, 0.000012}})
	assert.Equal(t, "```mermaid\n"+
		`%%{init: {"xyChart": {"width": 640, "height": 260}, "themeVariables": {"xyChart": {"plotColorPalette": "#8c959f, #0969da"}}}}%%`+"\n"+
		"xychart-beta\n"+
		"  title \"latency\"\n"+
		"  x-axis \"minutes since the window opened\" 0 --> 2\n"+
		"  y-axis 0 --> 3.3\n"+
		"  line [1, 2.5, 3]\n"+
		"  line [1.25, 2, 0]\n"+
		"```\n", b.String())
}
