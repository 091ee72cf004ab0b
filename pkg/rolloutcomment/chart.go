package rolloutcomment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MaxChartPoints is the most points a chart line has: a window's samples
// are averaged over at most this many buckets of equal width.
const MaxChartPoints = 40

// maxTitle is how many characters of a metric's name a chart title shows.
const maxTitle = 60

// The colours of the two lines, named again in the legend under the charts.
const (
	baselineColour = "#8c959f" // grey
	canaryColour   = "#0969da" // blue
)

// series is a metric's window cut into buckets of equal width, with the
// mean of each side's samples per bucket. Buckets without a sample are
// interpolated from their neighbours, so that both lines have a value at
// every x and share the same x axis.
type series struct {
	width  time.Duration // of a bucket
	unit   time.Duration // of the x axis: a second, a minute or an hour
	since  bool          // x counts from the window's opening, not the first sample
	base   []float64
	canary []float64
}

// bucket averages both sides' samples over at most maxPoints buckets from
// since (or the first sample, when since is zero or later) to the last
// sample. It returns why not when there is nothing to draw.
func bucket(since time.Time, base, canary []Point, maxPoints int) (series, string) {
	base, canary = finite(base), finite(canary)
	switch {
	case len(base) == 0 && len(canary) == 0:
		return series{}, "no samples"
	case len(base) == 0:
		return series{}, "no baseline samples"
	case len(canary) == 0:
		return series{}, "no canary samples"
	}
	first, last := bounds(base, canary)
	s := series{since: !since.IsZero() && !since.After(first)}
	start := first
	if s.since {
		start = since
	}
	span := last.Sub(start)
	// Never more buckets than the busier side has samples: extra buckets
	// would only draw interpolated points.
	s.width = niceWidth(span, min(maxPoints, max(len(base), len(canary))))
	n := int(span/s.width) + 1
	if n < 2 || maxPoints < 2 {
		return series{}, "too few samples for a chart"
	}
	s.unit = axisUnit(s.width)
	s.base = means(base, start, s.width, n)
	s.canary = means(canary, start, s.width, n)
	if _, ok := axisOf(s.base, s.canary); !ok {
		return series{}, "values beyond what a chart can show in plain decimals"
	}
	return s, ""
}

// finite drops the samples without a finite value, copying only when
// there is one to drop.
func finite(ps []Point) []Point {
	ok := func(p Point) bool { return !math.IsNaN(p.V) && !math.IsInf(p.V, 0) }
	i := 0
	for i < len(ps) && ok(ps[i]) {
		i++
	}
	if i == len(ps) {
		return ps
	}
	out := append(make([]Point, 0, len(ps)), ps[:i]...)
	for _, p := range ps[i:] {
		if ok(p) {
			out = append(out, p)
		}
	}
	return out
}

// bounds returns the earliest and latest sample time of both sides.
func bounds(sides ...[]Point) (first, last time.Time) {
	first, last = sides[0][0].T, sides[0][0].T
	for _, ps := range sides {
		for _, p := range ps {
			if p.T.Before(first) {
				first = p.T
			}
			if p.T.After(last) {
				last = p.T
			}
		}
	}
	return first, last
}

// niceWidth is the narrowest round bucket width that cuts span into at
// most maxPoints buckets.
func niceWidth(span time.Duration, maxPoints int) time.Duration {
	least := span / time.Duration(max(maxPoints-1, 1))
	for _, w := range []time.Duration{
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	} {
		if w >= least {
			return w
		}
	}
	day := 24 * time.Hour
	return (least + day - 1) / day * day
}

// axisUnit is the unit the x axis counts in for a bucket width, so that
// every tick is a whole number.
func axisUnit(width time.Duration) time.Duration {
	switch {
	case width < time.Minute:
		return time.Second
	case width < time.Hour:
		return time.Minute
	}
	return time.Hour
}

// means averages ps over n buckets of width from start; a bucket without a
// sample takes the value interpolated between its nearest neighbours.
func means(ps []Point, start time.Time, width time.Duration, n int) []float64 {
	sum := make([]float64, n)
	count := make([]int, n)
	for _, p := range ps {
		i := min(max(int(p.T.Sub(start)/width), 0), n-1)
		sum[i] += p.V
		count[i]++
	}
	for i := range sum {
		if count[i] > 0 {
			sum[i] /= float64(count[i])
		}
	}
	fillGaps(sum, count)
	return sum
}

// fillGaps gives every bucket without a sample (count 0) a value: linear
// between the nearest buckets with samples on each side, or the nearest
// one's at either end. At least one bucket must have a sample.
func fillGaps(v []float64, count []int) {
	prev := -1
	for i := range v {
		if count[i] == 0 {
			continue
		}
		switch {
		case prev < 0:
			for j := 0; j < i; j++ {
				v[j] = v[i]
			}
		case i-prev > 1:
			for j := prev + 1; j < i; j++ {
				f := float64(j-prev) / float64(i-prev)
				v[j] = v[prev] + f*(v[i]-v[prev])
			}
		}
		prev = i
	}
	for j := prev + 1; j < len(v); j++ {
		v[j] = v[prev]
	}
}

// maxMagnitude bounds the values a chart shows: beyond it plain decimals
// (all Mermaid reads) would be walls of digits.
const maxMagnitude = 1e15

// axis is a chart's y axis, and the decimals that show a thousandth of it.
type axis struct {
	lo, hi   float64
	decimals int
}

// axisOf is the y axis for the data: its range widened by a tenth on each
// side and rounded outward, never below zero for data that is not. It is
// not ok when the values are too large or their spread too small to show
// in plain decimals.
func axisOf(sides ...[]float64) (axis, bool) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, vs := range sides {
		for _, v := range vs {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	pad := (hi - lo) / 10
	if pad == 0 {
		pad = math.Abs(hi) / 10
	}
	if pad == 0 {
		pad = 1
	}
	low, high := lo-pad, hi+pad
	if lo >= 0 && low < 0 {
		low = 0
	}
	exp := int(math.Floor(math.Log10(high-low))) - 1
	step := math.Pow(10, float64(exp))
	a := axis{lo: math.Floor(low/step) * step, hi: math.Ceil(high/step) * step, decimals: max(0, 1-exp)}
	ok := math.Max(math.Abs(a.lo), math.Abs(a.hi)) < maxMagnitude && a.decimals <= maxDecimals
	return a, ok
}

// format writes v with the axis's decimals, without trailing zeros.
func (a axis) format(v float64) string {
	s := strconv.FormatFloat(v, 'f', a.decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		return "0"
	}
	return s
}

// writeChart writes a metric's series as a Mermaid xychart: baseline grey,
// canary blue, x in the axis unit from the window's start.
func writeChart(b *strings.Builder, name string, s series) {
	unit := map[time.Duration]string{time.Second: "seconds", time.Minute: "minutes", time.Hour: "hours"}[s.unit]
	from := "the first sample"
	if s.since {
		from = "the window opened"
	}
	y, _ := axisOf(s.base, s.canary)
	last := time.Duration(len(s.base)-1) * s.width / s.unit
	b.WriteString("```mermaid\n")
	fmt.Fprintf(b, "%%%%{init: {\"xyChart\": {\"width\": 640, \"height\": 260}, "+
		"\"themeVariables\": {\"xyChart\": {\"plotColorPalette\": \"%s, %s\"}}}}%%%%\n", baselineColour, canaryColour)
	b.WriteString("xychart-beta\n")
	fmt.Fprintf(b, "  title \"%s\"\n", mermaidTitle(name))
	fmt.Fprintf(b, "  x-axis \"%s since %s\" 0 --> %d\n", unit, from, last)
	fmt.Fprintf(b, "  y-axis %s --> %s\n", y.format(y.lo), y.format(y.hi))
	writeLine(b, y, s.base)
	writeLine(b, y, s.canary)
	b.WriteString("```\n")
}

func writeLine(b *strings.Builder, y axis, vs []float64) {
	b.WriteString("  line [")
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(y.format(v))
	}
	b.WriteString("]\n")
}

// mermaidTitle keeps of a metric's name only letters, digits, spaces and
// punctuation that is inert in a quoted Mermaid string, and no more than
// maxTitle characters of it. Quotes, brackets, braces, semicolons, '#',
// '%', '&', '<', '>' and backticks would let a name end the string, start
// a directive or comment, or smuggle entities or markup into the SVG.
func mermaidTitle(name string) string {
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == maxTitle {
			b.WriteString("...")
			break
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-./,+=*():", r):
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			continue
		}
		n++
	}
	title := strings.TrimSpace(b.String())
	if title == "" {
		return "metric"
	}
	return title
}
