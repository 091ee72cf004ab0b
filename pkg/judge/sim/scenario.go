// Package sim simulates canaries with known truth and measures how often
// judges roll them back: the accuracy benchmark of pkg/judge.
package sim

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/modelgate/modelgate/pkg/judge"
)

// Kind says what a scenario's correct outcome is.
type Kind string

// The kinds of scenario.
const (
	// AA canaries changed nothing: every rollback is false.
	AA Kind = "A/A"
	// Improvement canaries are better: every rollback is false.
	Improvement Kind = "improvement"
	// Regression canaries are worse by a known amount: a rollback is a detection.
	Regression Kind = "regression"
)

// Scenario is one simulated canary: a metric of the plan and how its
// samples are drawn on each side.
type Scenario struct {
	Name      string
	Kind      Kind
	Metric    string
	Direction judge.Direction
	Tolerance float64
	// Draw returns one sample of the baseline (canary false) or the canary.
	Draw func(r *rand.Rand, canary bool) float64
	// DrawSeries, when set, replaces Draw: it returns a side's n samples at
	// once, consecutive in time and not independent (OverlapScenarios).
	DrawSeries func(r *rand.Rand, n int, canary bool) []float64
	// Family is how Draw generates samples, told only to the bound judge.
	Family Family
	// Null names the A/A scenario of the same metric and traffic split: the
	// no-change canary a judge must not roll back while detecting this one.
	Null string
}

// FamilyKind names a parametric family of samples.
type FamilyKind string

// The families of the simulated metrics.
const (
	// LogNormal samples have normal logs, both sides with the same σ.
	LogNormal FamilyKind = "lognormal"
	// Normal samples are normal, both sides with the same standard deviation.
	Normal FamilyKind = "normal"
	// Poisson samples are per-interval error counts, Poisson with mean
	// rate × requests, divided by the interval's requests.
	Poisson FamilyKind = "poisson"
)

// Family describes a scenario's generating distribution in the terms of
// the family its optimal test is derived for.
type Family struct {
	Kind FamilyKind
	// Exact is false when the draws leave the family (heavy tails, spikes,
	// unequal variances): the family's test then is only approximately of
	// its level, and it has no exact power.
	Exact bool
	// Sigma is the per-sample standard deviation (of the logs for
	// LogNormal), and Shift the canary's mean minus the baseline's (of the
	// logs for LogNormal).
	Sigma, Shift float64
	// BaseRate and CanaryRate are the error rates per request, and
	// BaseRequests and CanaryRequests the requests per interval (Poisson).
	BaseRate, CanaryRate         float64
	BaseRequests, CanaryRequests int
}

// The simulated metrics. Each sample is the metric over one interval.
const (
	latencyMedianMs = 100.0
	latencySigma    = 0.12 // per-interval p99 varies by about 12 %
	latencyTol      = 0.05
	errorRate       = 0.005
	errorTol        = 0.10
	requests        = 1000 // requests per interval per side at 50/50 traffic
	f1Mean          = 0.90
	f1Sd            = 0.01 // one F1 point per interval
	f1Tol           = 0.005
)

// Scenarios returns the benchmark's scenarios.
func Scenarios() []Scenario {
	return []Scenario{
		latency("latency A/A lognormal", AA, 1, lognormal(latencySigma), lognormal(latencySigma)),
		inexact(latency("latency A/A heavy tail (log-t3)", AA, 1, logT3(latencySigma), logT3(latencySigma))),
		inexact(latency("latency A/A outlier spikes (3 % x2-x10)", AA, 1, spiky(latencySigma), spiky(latencySigma))),
		inexact(latency("latency A/A canary at 5 % traffic", AA, 1, lognormal(latencySigma), lognormal(latencySigma*math.Sqrt(19)))),
		errRate("error rate A/A 0.5 %", AA, errorRate, requests, requests),
		errRate("error rate A/A 0.5 %, canary at 5 % traffic", AA, errorRate, 2*requests*95/100, 2*requests*5/100),
		f1("F1 A/A", AA, 0),
		latency("latency -10 %", Improvement, 0.90, lognormal(latencySigma), lognormal(latencySigma)),
		errRate("error rate 0.5 % -> 0.25 %", Improvement, 0.0025, requests, requests),
		f1("F1 +1 point", Improvement, +0.01),
		latency("latency +2 %", Regression, 1.02, lognormal(latencySigma), lognormal(latencySigma)),
		latency("latency +5 %", Regression, 1.05, lognormal(latencySigma), lognormal(latencySigma)),
		latency("latency +10 %", Regression, 1.10, lognormal(latencySigma), lognormal(latencySigma)),
		latency("latency +25 %", Regression, 1.25, lognormal(latencySigma), lognormal(latencySigma)),
		errRate("error rate 0.5 % -> 0.6 %", Regression, 0.006, requests, requests),
		errRate("error rate 0.5 % -> 1 %", Regression, 0.01, requests, requests),
		errRate("error rate 0.5 % -> 2 %", Regression, 0.02, requests, requests),
		errRate("error rate 0.5 % -> 1 %, canary at 5 % traffic", Regression, 0.01, 2*requests*95/100, 2*requests*5/100),
		f1("F1 -0.5 point", Regression, -0.005),
		f1("F1 -1 point", Regression, -0.01),
		f1("F1 -3 points", Regression, -0.03),
	}
}

// noise draws a multiplicative noise factor around 1.
type noise func(r *rand.Rand) float64

// inexact marks a scenario whose draws leave its family.
func inexact(sc Scenario) Scenario {
	sc.Family.Exact = false
	return sc
}

func latency(name string, kind Kind, factor float64, base, canary noise) Scenario {
	return Scenario{Name: name, Kind: kind, Metric: "latency_p99_ms", Direction: judge.IncreaseIsBad,
		Tolerance: latencyTol, Null: "latency A/A lognormal",
		Family: Family{Kind: LogNormal, Exact: true, Sigma: latencySigma, Shift: math.Log(factor)},
		Draw: func(r *rand.Rand, isCanary bool) float64 {
			if isCanary {
				return latencyMedianMs * factor * canary(r)
			}
			return latencyMedianMs * base(r)
		}}
}

func lognormal(sigma float64) noise {
	return func(r *rand.Rand) float64 { return math.Exp(sigma * r.NormFloat64()) }
}

// logT3 has Student-t (3 degrees of freedom) logs: a heavy right tail.
func logT3(sigma float64) noise {
	return func(r *rand.Rand) float64 {
		var chi2 float64
		for range 3 {
			z := r.NormFloat64()
			chi2 += z * z
		}
		t := r.NormFloat64() / math.Sqrt(chi2/3)
		return math.Exp(sigma / math.Sqrt(3) * t) // scaled to the same variance
	}
}

// spiky is lognormal with 3 % of samples multiplied by 2 to 10 (GC pauses,
// cold caches, a noisy neighbour).
func spiky(sigma float64) noise {
	return func(r *rand.Rand) float64 {
		x := math.Exp(sigma * r.NormFloat64())
		if r.Float64() < 0.03 {
			x *= 2 + 8*r.Float64()
		}
		return x
	}
}

// errRate draws per-interval error rates: errors among the interval's
// requests on each side.
func errRate(name string, kind Kind, canaryRate float64, baseReq, canaryReq int) Scenario {
	null := "error rate A/A 0.5 %"
	if canaryReq != baseReq {
		null = "error rate A/A 0.5 %, canary at 5 % traffic"
	}
	return Scenario{Name: name, Kind: kind, Metric: "error_rate", Direction: judge.IncreaseIsBad,
		Tolerance: errorTol, Null: null,
		Family: Family{Kind: Poisson, Exact: true, BaseRate: errorRate, CanaryRate: canaryRate,
			BaseRequests: baseReq, CanaryRequests: canaryReq},
		Draw: func(r *rand.Rand, isCanary bool) float64 {
			if isCanary {
				return float64(poisson(r, canaryRate*float64(canaryReq))) / float64(canaryReq)
			}
			return float64(poisson(r, errorRate*float64(baseReq))) / float64(baseReq)
		}}
}

// poisson draws a Poisson count (Knuth; the means here are small).
func poisson(r *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func f1(name string, kind Kind, delta float64) Scenario {
	// The clipping to (0, 1] is 10 standard deviations away: the family
	// is normal to within 1e-23.
	return Scenario{Name: name, Kind: kind, Metric: "f1", Direction: judge.DecreaseIsBad,
		Tolerance: f1Tol, Null: "F1 A/A", Family: Family{Kind: Normal, Exact: true, Sigma: f1Sd, Shift: delta},
		Draw: func(r *rand.Rand, isCanary bool) float64 {
			m := f1Mean
			if isCanary {
				m += delta
			}
			return min(max(m+f1Sd*r.NormFloat64(), 1e-6), 1)
		}}
}

// OverlapScenarios are A/A canaries whose samples are what Prometheus
// gives a query sampled too often: rates over windows that overlap (each
// sample shares most of its requests with the previous one), a gauge that
// drifts slowly, a value repeated because the step is shorter than the
// scrape interval. A judge that reads such samples as independent draws
// rolls back far more than its α; they are the inputs the simulator used
// to hide (Scenarios draws every sample on its own).
func OverlapScenarios() []Scenario {
	return []Scenario{
		overlapped("latency A/A, rate over 10 steps sampled every step", latencyOverlap(10)),
		overlapped("error rate A/A, rate over 10 steps sampled every step", errorOverlap(10, requests/10)),
		overlapped("latency A/A, AR(1) gauge, ρ = 0.9", latencyAR(0.9)),
		overlapped("latency A/A, each value scraped once and sampled 4 times", repeated(4, lognormalSeries(latencySigma))),
	}
}

func overlapped(name string, draw func(r *rand.Rand, n int) []float64) Scenario {
	sc := latency(name, AA, 1, lognormal(latencySigma), lognormal(latencySigma))
	if strings.HasPrefix(name, "error") {
		sc = errRate(name, AA, errorRate, requests, requests)
	}
	sc.Family.Exact = false
	sc.Null = name
	sc.DrawSeries = func(r *rand.Rand, n int, _ bool) []float64 { return draw(r, n) }
	return sc
}

// latencyOverlap is a p99 over the last w steps at every step: the
// geometric mean of w independent per-step values.
func latencyOverlap(w int) func(r *rand.Rand, n int) []float64 {
	return func(r *rand.Rand, n int) []float64 {
		logs := make([]float64, n+w-1)
		for i := range logs {
			logs[i] = latencySigma * math.Sqrt(float64(w)) * r.NormFloat64()
		}
		out := make([]float64, n)
		for i := range out {
			var s float64
			for _, l := range logs[i : i+w] {
				s += l
			}
			out[i] = latencyMedianMs * math.Exp(s/float64(w))
		}
		return out
	}
}

// errorOverlap is an error rate over the last w steps of perStep requests.
func errorOverlap(w, perStep int) func(r *rand.Rand, n int) []float64 {
	return func(r *rand.Rand, n int) []float64 {
		errs := make([]int, n+w-1)
		for i := range errs {
			errs[i] = poisson(r, errorRate*float64(perStep))
		}
		out := make([]float64, n)
		for i := range out {
			var s int
			for _, e := range errs[i : i+w] {
				s += e
			}
			out[i] = float64(s) / float64(w*perStep)
		}
		return out
	}
}

// latencyAR is a lognormal gauge whose log is AR(1) with coefficient rho,
// with the per-sample spread of the other latency scenarios.
func latencyAR(rho float64) func(r *rand.Rand, n int) []float64 {
	return func(r *rand.Rand, n int) []float64 {
		out := make([]float64, n)
		x := latencySigma * r.NormFloat64()
		for i := range out {
			x = rho*x + latencySigma*math.Sqrt(1-rho*rho)*r.NormFloat64()
			out[i] = latencyMedianMs * math.Exp(x)
		}
		return out
	}
}

func lognormalSeries(sigma float64) func(r *rand.Rand, n int) []float64 {
	return func(r *rand.Rand, n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = latencyMedianMs * math.Exp(sigma*r.NormFloat64())
		}
		return out
	}
}

// repeated repeats each value k times, as a query sampled k times per
// scrape sees it.
func repeated(k int, draw func(r *rand.Rand, n int) []float64) func(r *rand.Rand, n int) []float64 {
	return func(r *rand.Rand, n int) []float64 {
		vals := draw(r, (n+k-1)/k)
		out := make([]float64, n)
		for i := range out {
			out[i] = vals[i/k]
		}
		return out
	}
}
