package rolloutcomment

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFixed(t *testing.T) {
	tests := []struct {
		in   float64
		sig  int
		want string
	}{
		{0, 4, "0"},
		{123.456, 4, "123.5"},
		{120, 4, "120"},
		{12345.6, 4, "12346"},
		{0.0123456, 4, "0.01235"},
		{0.000012, 4, "0.000012"},
		{-3.14159, 4, "-3.142"},
		{-0.00000000000001, 4, "0"},
		{1e20, 4, "100000000000000000000"},
		{1e-300, 4, "0"},
		{0.21, 2, "0.21"},
		{0.0012345, 2, "0.0012"},
		{0.999, 2, "1"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, fixed(tt.in, tt.sig), "fixed(%g, %d)", tt.in, tt.sig)
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{120.4, "120.4"},
		{0.0021, "0.0021"},
		{-5.25, "−5.25"},
		{123456, "123456"},
		{1234567, "1.23e+06"},
		{0.00001234, "1.23e-05"},
		{0, "0"},
		{math.NaN(), "—"},
		{math.Inf(1), "∞"},
		{math.Inf(-1), "−∞"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, value(tt.in), "value(%g)", tt.in)
	}
}

func TestPercentAndChange(t *testing.T) {
	tests := []struct {
		change float64
		ci     [2]float64
		want   string
	}{
		{0.031, [2]float64{-0.01, 0.07}, "+3.1 % [−1.0 %, +7.0 %]"},
		{-0.0001, [2]float64{-0.0004, 0.0001}, "+0.0 % [+0.0 %, +0.0 %]"},
		{0.123, [2]float64{math.NaN(), math.NaN()}, "+12.3 %"},
		{math.NaN(), [2]float64{math.NaN(), math.NaN()}, "—"},
		{1e5, [2]float64{2, math.Inf(1)}, "+1e+07 % [+200.0 %, —]"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, change(tt.change, tt.ci), "change(%g, %v)", tt.change, tt.ci)
	}
}

func TestSmallFormats(t *testing.T) {
	assert.Equal(t, "0.21", pValue(0.2134))
	assert.Equal(t, "0.0012", pValue(0.00123))
	assert.Equal(t, "&lt;0.0001", pValue(0.00000123))
	assert.Equal(t, "—", pValue(math.NaN()))
	assert.Equal(t, "5 %", share(5))
	assert.Equal(t, "2.5 %", share(2.5))
	assert.Equal(t, "—", share(math.NaN()))
	assert.Equal(t, "99 %", confidence(0.99))
	assert.Equal(t, "99.9 %", confidence(0.999))
	assert.Equal(t, "", confidence(math.NaN()))
	assert.Equal(t, "30m", duration(30*time.Minute))
	assert.Equal(t, "1h", duration(time.Hour))
	assert.Equal(t, "1h30m", duration(90*time.Minute))
	assert.Equal(t, "45s", duration(45*time.Second))
	assert.Equal(t, "—", duration(0))
}

func TestWhatHoldsForCounts(t *testing.T) {
	var b strings.Builder
	writeWhatHolds(&b, []Metric{{Name: "p", Kind: "query"}})
	assert.Empty(t, b.String(), "nothing to say of samples alone")
	writeWhatHolds(&b, []Metric{{Name: "p", Kind: "query"}, {Name: "e", Kind: "ratio", Requests: [2]float64{1234567, 61}}})
	assert.Contains(t, b.String(), "(baseline 1,234,567, canary 61 so far)")
	assert.Contains(t, b.String(), "at most 1 % of the time over all its looks and metrics (bursts of latency can take it to 2–3 %)")
}
