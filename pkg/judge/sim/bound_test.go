package sim

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStudentQuantileMatchesTables(t *testing.T) {
	for _, tc := range []struct {
		q    float64
		df   int
		want float64 // printed tables, 3 decimals
	}{
		{0.01, 1, 31.821},
		{0.01, 2, 6.965},
		{0.01, 3, 4.541},
		{0.01, 9, 2.821},
		{0.01, 18, 2.552},
		{0.01, 58, 2.392},
		{0.05, 10, 1.812},
		{0.025, 30, 2.042},
		{0.01, 120, 2.358},
	} {
		t.Run(fmt.Sprintf("q=%v df=%d", tc.q, tc.df), func(t *testing.T) {
			got := studentQuantile(tc.q, tc.df)
			assert.InDelta(t, tc.want, got, 0.0006)
			assert.InDelta(t, tc.q, studentAbove(got, tc.df), 1e-12, "the quantile inverts the tail")
		})
	}
	// Many degrees of freedom: the normal quantile.
	assert.InDelta(t, 2.3263, studentQuantile(0.01, 100000), 0.0002)
	assert.InDelta(t, 0.5, studentAbove(0, 7), 1e-15)
	assert.InDelta(t, 0.75, studentAbove(-1, 1), 1e-15, "Cauchy: P(T > -1) = 3/4")
}

// TestBinomialCutSpendsExactlyAlpha sums the test function against the
// binomial law (computed by its own recursion, not the pmf the cut uses):
// under equal rates the conditional test, and so the unconditional one at
// every base rate, rolls back exactly α.
func TestBinomialCutSpendsExactlyAlpha(t *testing.T) {
	for _, tc := range []struct {
		n  int
		p0 float64
	}{
		{0, 0.5}, {1, 0.5}, {5, 0.5}, {37, 0.5}, {500, 0.5}, {3000, 0.5},
		{1, 0.05}, {20, 0.05}, {200, 0.05}, {1500, 0.05},
	} {
		t.Run(fmt.Sprintf("n=%d p0=%v", tc.n, tc.p0), func(t *testing.T) {
			bc := binomialCut(tc.n, tc.p0, 0.01)
			require.GreaterOrEqual(t, bc.Gamma, 0.0)
			require.Less(t, bc.Gamma, 1.0)
			// pmf by recursion from the mode outwards, normalized.
			pmf := make([]float64, tc.n+1)
			mode := int(float64(tc.n+1) * tc.p0)
			mode = min(mode, tc.n)
			pmf[mode] = 1
			odds := tc.p0 / (1 - tc.p0)
			for k := mode; k < tc.n; k++ {
				pmf[k+1] = pmf[k] * float64(tc.n-k) / float64(k+1) * odds
			}
			for k := mode; k > 0; k-- {
				pmf[k-1] = pmf[k] * float64(k) / float64(tc.n-k+1) / odds
			}
			var total, size float64
			for k, p := range pmf {
				total += p
				size += bc.phi(k) * p
			}
			assert.InDelta(t, 0.01, size/total, 1e-12)
			if bc.Cut+1 <= tc.n {
				assert.Equal(t, 1.0, bc.phi(bc.Cut+1))
			}
			assert.Equal(t, 0.0, bc.phi(bc.Cut-1))
		})
	}
}

// TestBoundLevelOnAA measures the bound's false rollbacks on the A/A
// scenarios of its families: a level-1 % test, so 1 % within Monte Carlo
// error (±0.3 points is 4 standard errors at 20,000 replicates).
func TestBoundLevelOnAA(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	opts := DefaultOptions()
	opts.Reps = 20000
	opts.Sizes = []int{10, 30}
	scs := pick(t, "latency A/A lognormal", "F1 A/A", "error rate A/A 0.5 %",
		"error rate A/A 0.5 %, canary at 5 % traffic", "latency -10 %", "F1 +1 point")
	res, err := Run(context.Background(), opts, scs, nil, NewBound())
	require.NoError(t, err)
	for _, sc := range scs {
		for _, n := range opts.Sizes {
			rate := res.Cells[Key{sc.Name, n, boundName}].Rate(true)
			t.Logf("%s n=%d: %.2f %%", sc.Name, n, 100*rate)
			if sc.Kind == AA {
				assert.InDelta(t, 0.01, rate, 0.003, "%s n=%d", sc.Name, n)
			} else {
				assert.Less(t, rate, 0.001, "%s n=%d: improvements are rarely rolled back", sc.Name, n)
			}
		}
	}
}

// TestBoundPowerMatchesSimulation checks the exact power (noncentral t,
// Poisson–binomial sums) against the simulated bound, and that it is the
// level at no change.
func TestBoundPowerMatchesSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	b := NewBound()
	for _, name := range []string{"latency A/A lognormal", "F1 A/A", "error rate A/A 0.5 %",
		"error rate A/A 0.5 %, canary at 5 % traffic"} {
		sc := pick(t, name)[0]
		for _, n := range []int{10, 100} {
			p, ok := b.Power(sc, n)
			require.True(t, ok)
			assert.InDelta(t, 0.01, p, 1e-6, "%s n=%d", name, n)
		}
	}
	_, ok := b.Power(pick(t, "latency A/A heavy tail (log-t3)")[0], 10)
	assert.False(t, ok, "no exact power outside the family")

	opts := DefaultOptions()
	opts.Reps = 4000
	opts.Sizes = []int{10, 30}
	scs := pick(t, "latency +10 %", "F1 -1 point", "error rate 0.5 % -> 0.6 %",
		"error rate 0.5 % -> 1 %, canary at 5 % traffic")
	res, err := Run(context.Background(), opts, scs, nil, b)
	require.NoError(t, err)
	for _, sc := range scs {
		for _, n := range opts.Sizes {
			exact, ok := b.Power(sc, n)
			require.True(t, ok)
			sim := res.Cells[Key{sc.Name, n, boundName}].Rate(true)
			se := math.Sqrt(exact * (1 - exact) / float64(opts.Reps))
			t.Logf("%s n=%d: exact %.2f %%, simulated %.2f %%", sc.Name, n, 100*exact, 100*sim)
			assert.InDelta(t, exact, sim, 4*se+1e-9, "%s n=%d", sc.Name, n)
			assert.Greater(t, exact, 0.01, "%s n=%d: unbiased", sc.Name, n)
		}
	}
}

func TestClassify(t *testing.T) {
	sc := pick(t, "latency +10 %")[0]
	count := func(hits int) Cell { return Cell{Reps: 2000, Peeking: hits} }
	exact := func(p float64) Cell {
		return Cell{Reps: 2000, Reference: true, Phi: 2000 * p, Exact: p, HasExact: true}
	}
	simulated := func(p float64) Cell { return Cell{Reps: 2000, Reference: true, Phi: 2000 * p} }
	for _, tc := range []struct {
		name          string
		ours, kayenta int
		bound         Cell
		want          Attainability
	}{
		{"ours at kayenta", 1550, 1550, exact(0.70), Met},
		{"kayenta far above the bound", 1180, 1550, exact(0.75), Unattainable},
		{"kayenta above the bound within 2 SE", 1180, 1520, exact(0.75), Undecided},
		{"kayenta at the bound", 1180, 1500, exact(0.75), Attainable},
		{"kayenta below the bound", 1180, 1400, exact(0.75), Attainable},
		{"all detected, the bound just below 1", 1999, 2000, exact(0.9995), Undecided},
		{"exact bound: only kayenta's error", 1180, 1530, exact(0.745), Unattainable},
		{"simulated bound: both errors count", 1180, 1530, simulated(0.745), Undecided},
		{"simulated bound far below", 1180, 1600, simulated(0.745), Unattainable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(sc, 30, count(tc.ours), count(tc.kayenta), tc.bound, count(30))
			assert.Equal(t, tc.want, got.Attainable)
			assert.Equal(t, tc.bound.HasExact, got.Exact)
			assert.Contains(t, got.String(), "latency +10 % n=30")
		})
	}
	c := classify(sc, 30, count(1180), count(1550), exact(0.75), count(30))
	assert.Equal(t, "unattainable: latency +10 % n=30: bound 75.0 % < kayenta 77.5 % (2.6 standard errors above; ours 59.0 %; "+
		"kayenta's A/A false rollbacks in the matching A/A scenario: 1.5 %)", c.String())
	c = classify(sc, 30, count(1180), count(1550), exact(0.75), Cell{})
	assert.Contains(t, c.String(), "matching A/A scenario: not run")
}
