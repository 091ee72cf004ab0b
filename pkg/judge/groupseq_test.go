package judge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// crossRate simulates Brownian paths at looks equally spaced looks and
// returns how often one crosses the boundary, and how often by look k.
func crossRate(g *groupSeq, paths int, seed uint64) float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	looks := len(g.z)
	crossed := 0
	for range paths {
		s := 0.0
		for k := 1; k <= looks; k++ {
			s += r.NormFloat64() * math.Sqrt(1/float64(looks))
			if s/math.Sqrt(float64(k)/float64(looks)) >= g.z[k-1] {
				crossed++
				break
			}
		}
	}
	return float64(crossed) / float64(paths)
}

func TestGroupSeqOneLookIsTheFixedTest(t *testing.T) {
	g := newGroupSeq(1, 0.01, 2)
	assert.InDelta(t, 2.3263, g.z[0], 1e-4)
	assert.InDelta(t, 0.01, g.pValue(1, g.z[0]), 1e-9)
	assert.InDelta(t, 0.5, g.pValue(1, 0), 1e-12)
}

// TestGroupSeqSpendsAlpha checks the computed boundaries by simulation: the
// chance of ever crossing is alpha (within Monte Carlo error, 2.6 sd).
func TestGroupSeqSpendsAlpha(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const paths = 400_000
	for _, tt := range []struct {
		looks int
		rho   float64
	}{{2, 1}, {6, 1}, {10, 1}, {10, 2}, {10, 3}, {30, 2}} {
		g := newGroupSeq(tt.looks, 0.01, tt.rho)
		rate := crossRate(g, paths, uint64(tt.looks))
		sd := math.Sqrt(0.01 * 0.99 / paths)
		assert.InDelta(t, 0.01, rate, 2.6*sd, "K=%d rho=%v: boundary %v", tt.looks, tt.rho, g.z)
		assert.InDelta(t, 0.01, g.spent[tt.looks-1], 1e-12)
		for k := 1; k <= tt.looks; k++ {
			assert.InDelta(t, g.spent[k-1], g.pValue(k, g.z[k-1]), 1e-6, "p at the boundary of look %d", k)
		}
	}
}

func TestGroupSeqShapes(t *testing.T) {
	pocock, obf := newGroupSeq(10, 0.01, 1), newGroupSeq(10, 0.01, 3)
	// rho = 1 spends early: lower first boundaries, higher last one.
	assert.Less(t, pocock.z[0], obf.z[0])
	assert.Greater(t, pocock.z[9], obf.z[9])
	assert.Greater(t, obf.z[9], 2.3263, "never below the fixed-sample value")
	t.Logf("rho 1: %.3f", pocock.z)
	t.Logf("rho 3: %.3f", obf.z)
	t.Logf("rho 2: %.3f", newGroupSeq(10, 0.01, 2).z)
}

// BenchmarkGroupSeq measures computing a boundary, done once per number of
// looks and level in a Judge.
func BenchmarkGroupSeq(b *testing.B) {
	for _, looks := range []int{6, 10, 100} {
		b.Run(fmt.Sprint(looks), func(b *testing.B) {
			for range b.N {
				newGroupSeq(looks, 0.006, 2)
			}
		})
	}
}
