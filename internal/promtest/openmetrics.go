package promtest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Labels are a series' labels.
type Labels map[string]string

// Point is a value at an instant.
type Point struct {
	Time  time.Time
	Value float64
}

// HistogramPoint is a histogram at an instant: cumulative counts for each
// bucket bound (ascending, without +Inf), the total count and the sum.
type HistogramPoint struct {
	Time    time.Time
	Buckets []float64
	Count   float64
	Sum     float64
}

// OpenMetrics builds backfill input for Start: metric families that each
// hold series of points, written family by family as OpenMetrics requires.
type OpenMetrics struct {
	families []*family
}

type family struct {
	name, kind string
	bounds     []float64
	lines      []string
}

// Counter adds a counter series; name has no _total suffix, values must not fall.
func (o *OpenMetrics) Counter(name string, labels Labels, points []Point) {
	f := o.family(name, "counter", nil)
	for _, p := range points {
		f.lines = append(f.lines, sample(name+"_total", labels, p.Value, p.Time))
	}
}

// Gauge adds a gauge series.
func (o *OpenMetrics) Gauge(name string, labels Labels, points []Point) {
	f := o.family(name, "gauge", nil)
	for _, p := range points {
		f.lines = append(f.lines, sample(name, labels, p.Value, p.Time))
	}
}

// Histogram adds a histogram series with the given bucket bounds (ascending;
// +Inf is added). Every series of one name must have the same bounds.
func (o *OpenMetrics) Histogram(name string, labels Labels, bounds []float64, points []HistogramPoint) {
	f := o.family(name, "histogram", bounds)
	for _, p := range points {
		for i, le := range bounds {
			f.lines = append(f.lines, sample(name+"_bucket", with(labels, "le", formatFloat(le)), p.Buckets[i], p.Time))
		}
		f.lines = append(f.lines,
			sample(name+"_bucket", with(labels, "le", "+Inf"), p.Count, p.Time),
			sample(name+"_count", labels, p.Count, p.Time),
			sample(name+"_sum", labels, p.Sum, p.Time))
	}
}

func (o *OpenMetrics) family(name, kind string, bounds []float64) *family {
	for _, f := range o.families {
		if f.name == name {
			if f.kind != kind || !slices.Equal(f.bounds, bounds) {
				panic(fmt.Sprintf("promtest: %s added as a %s %v and a %s %v", name, f.kind, f.bounds, kind, bounds))
			}
			return f
		}
	}
	f := &family{name: name, kind: kind, bounds: bounds}
	o.families = append(o.families, f)
	return f
}

// String returns the OpenMetrics text, ending in "# EOF".
func (o *OpenMetrics) String() string {
	var b strings.Builder
	for _, f := range o.families {
		fmt.Fprintf(&b, "# TYPE %s %s\n", f.name, f.kind)
		for _, l := range f.lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

func sample(name string, labels Labels, v float64, t time.Time) string {
	var b strings.Builder
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(labels)) {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=\"%s\"", k, escapeLabel(labels[k]))
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(&b, " %s %s", formatFloat(v), strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
	return b.String()
}

func with(labels Labels, k, v string) Labels {
	out := maps.Clone(labels)
	if out == nil {
		out = Labels{}
	}
	out[k] = v
	return out
}

func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
