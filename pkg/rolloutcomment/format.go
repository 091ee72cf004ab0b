package rolloutcomment

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// minus is the sign shown for negative numbers in Markdown: the typographic
// minus, which neither wraps from its digits nor reads as a list marker.
const minus = "\u2212"

// sigDigits is how many significant digits a measured value shows.
const sigDigits = 4

// maxDecimals bounds the decimals of a fixed-notation number, so that a
// value such as 1e-300 prints as 0 rather than as 300 zeros.
const maxDecimals = 12

// fixed formats v in plain decimal notation with about sig significant
// digits and no trailing zeros: 123.4, 0.01234, 12346. v must be finite.
func fixed(v float64, sig int) string {
	if v == 0 {
		return "0"
	}
	decimals := sig - 1 - int(math.Floor(math.Log10(math.Abs(v))))
	decimals = max(0, min(decimals, maxDecimals))
	return axis{decimals: decimals}.format(v)
}

// value formats a measured value for a table: four significant digits,
// an exponent only beyond a million or below 0.0001, a dash for no data.
func value(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return minus + "∞"
	}
	a := math.Abs(v)
	s := fixed(v, sigDigits)
	if a >= 1e6 || (a < 1e-4 && a > 0) {
		s = strconv.FormatFloat(v, 'g', sigDigits-1, 64)
	}
	return signed(s)
}

// signed puts the typographic minus in place of a leading hyphen.
func signed(s string) string {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return minus + rest
	}
	return s
}

// percent formats a relative change (0.031) as "+3.1 %".
func percent(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	s := strconv.FormatFloat(100*x, 'f', 1, 64)
	if math.Abs(100*x) >= 1e6 {
		s = strconv.FormatFloat(100*x, 'g', 3, 64)
	}
	if s == "-0.0" {
		s = "0.0"
	}
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return signed(s) + " %"
}

// change formats a change with its interval: "+3.1 % [−1.0 %, +7.0 %]".
func change(x float64, ci [2]float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	if math.IsNaN(ci[0]) || math.IsNaN(ci[1]) {
		return percent(x)
	}
	return percent(x) + " [" + percent(ci[0]) + ", " + percent(ci[1]) + "]"
}

// pValue formats a p-value with two significant digits, and tiny ones as
// a bound: "0.2", "0.031", "0.0012", "<0.0001".
func pValue(p float64) string {
	switch {
	case math.IsNaN(p) || p < 0:
		return "—"
	case p < 1e-4:
		return "&lt;0.0001"
	}
	return fixed(p, 2)
}

// share formats a percentage such as a stage's traffic or a tolerance given
// as a fraction: share(5) = "5 %", share(2.5) = "2.5 %".
func share(pct float64) string {
	if math.IsNaN(pct) || math.IsInf(pct, 0) {
		return "—"
	}
	return signed(strconv.FormatFloat(pct, 'f', -1, 64)) + " %"
}

// confidence formats a level such as 0.99 as "99 %".
func confidence(c float64) string {
	if math.IsNaN(c) || c <= 0 || c >= 1 {
		return ""
	}
	return share(math.Round(c*1000) / 10)
}

// duration formats a window compactly: 30m, 1h, 1h30m, 45s.
func duration(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// clock formats an instant for the comment, in UTC.
func clock(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
