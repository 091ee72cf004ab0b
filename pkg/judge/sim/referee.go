package sim

import (
	"math"
	"slices"

	"github.com/modelgate/modelgate/pkg/analysis"
	"github.com/modelgate/modelgate/pkg/judge"
)

// Judge is anything that decides a canary from its metrics.
type Judge interface {
	Name() string
	Decide(metrics []judge.Metric) judge.Decision
}

// PlannedJudge is a Judge that can be told which look of how many planned
// it is judging.
type PlannedJudge interface {
	Judge
	DecideAt(look judge.Look, metrics []judge.Metric) judge.Decision
}

// Ours is pkg/judge. It is a PlannedJudge, told the planned looks, unless
// Fallback is set: then it never knows them and runs the mixture SPRT.
type Ours struct {
	J        *judge.Judge
	Fallback bool
}

// Name implements Judge.
func (o Ours) Name() string {
	if o.Fallback {
		return fallbackName
	}
	return oursName
}

// Decide implements Judge: the number of looks is unknown.
func (o Ours) Decide(ms []judge.Metric) judge.Decision {
	return o.DecideAt(judge.Look{}, ms)
}

// DecideAt implements PlannedJudge; an invalid plan counts as inconclusive.
func (o Ours) DecideAt(look judge.Look, ms []judge.Metric) judge.Decision {
	if o.Fallback {
		look = judge.Look{}
	}
	rep, err := o.J.JudgeAt(look, ms)
	if err != nil {
		return judge.DecisionInconclusive
	}
	return rep.Decision
}

// Batched is a judge that first replaces each metric's samples by batch
// means, as the engine does for a query metric (analysis.BatchMeans), so
// that samples which are not independent are judged as about as many
// independent ones as they hold.
type Batched struct{ Judge PlannedJudge }

// Name implements Judge.
func (b Batched) Name() string { return b.Judge.Name() + "+batch-means" }

// Decide implements Judge.
func (b Batched) Decide(ms []judge.Metric) judge.Decision { return b.DecideAt(judge.Look{}, ms) }

// DecideAt implements PlannedJudge.
func (b Batched) DecideAt(look judge.Look, ms []judge.Metric) judge.Decision {
	out := make([]judge.Metric, len(ms))
	for i, m := range ms {
		m.Baseline, m.Canary, _ = analysis.BatchMeans(m.Baseline, m.Canary)
		out[i] = m
	}
	return b.Judge.DecideAt(look, out)
}

// MeanRule passes a metric when abs(mean(canary) - mean(baseline)) <= 0.05,
// taken relative to the baseline mean (0.05 = 5 %) so that it reads the same
// on milliseconds, rates and F1; read literally on milliseconds it would
// fail every latency canary. Any failing metric fails the canary.
type MeanRule struct{}

// Name implements Judge.
func (MeanRule) Name() string { return "mean-rule" }

// Decide implements Judge.
func (MeanRule) Decide(ms []judge.Metric) judge.Decision {
	for _, m := range ms {
		if len(m.Baseline) == 0 || len(m.Canary) == 0 {
			return judge.DecisionInconclusive
		}
		b, c := mean(m.Baseline), mean(m.Canary)
		if math.Abs(c-b) > 0.05*math.Abs(b) {
			return judge.DecisionFail
		}
	}
	return judge.DecisionPass
}

// Kayenta is a judge in the style of Netflix Kayenta's NetflixACAJudge: a
// Mann-Whitney classifier per metric (the confidence interval of the
// location shift at Confidence, 0.98, must exclude 0 on the bad side, and
// the ratio of means must be beyond the tolerance, Kayenta's effect size
// "allowedIncrease" / "allowedDecrease"), then the percentage of passing
// metrics against the pass (95) and marginal (75) thresholds.
type Kayenta struct {
	Label                    string
	Confidence               float64
	PassScore, MarginalScore float64
}

// NewKayenta returns the configuration the issue compares against.
func NewKayenta() Kayenta {
	return Kayenta{Label: "kayenta-mw", Confidence: 0.98, PassScore: 95, MarginalScore: 75}
}

// NewKayentaBonferroni is the same judge made to keep its false rollbacks
// under 1 % over 10 looks by Bonferroni: 0.1 % one-sided per look (99.8 %
// two-sided). It shows what Kayenta's detection costs at our error budget.
func NewKayentaBonferroni() Kayenta {
	return Kayenta{Label: "kayenta-mw-99.8", Confidence: 0.998, PassScore: 95, MarginalScore: 75}
}

// Name implements Judge.
func (k Kayenta) Name() string { return k.Label }

// Decide implements Judge.
func (k Kayenta) Decide(ms []judge.Metric) judge.Decision {
	var judged, passed int
	for _, m := range ms {
		if len(m.Baseline) == 0 || len(m.Canary) == 0 {
			continue // Kayenta's NoData is left out of the score
		}
		judged++
		if !k.high(m) {
			passed++
		} else if m.Critical {
			return judge.DecisionFail
		}
	}
	if judged == 0 {
		return judge.DecisionInconclusive
	}
	score := 100 * float64(passed) / float64(judged)
	switch {
	case score >= k.PassScore:
		return judge.DecisionPass
	case score >= k.MarginalScore:
		return judge.DecisionInconclusive
	}
	return judge.DecisionFail
}

// high reports whether the metric is classified High (or Low for
// decrease_is_bad): significantly and materially worse.
func (k Kayenta) high(m judge.Metric) bool {
	z := mannWhitneyZ(m.Baseline, m.Canary) // > 0: canary higher
	ratio := mean(m.Canary) / mean(m.Baseline)
	crit := normalQuantile(1 - (1-k.Confidence)/2)
	if m.Direction == judge.DecreaseIsBad {
		return z < -crit && ratio < 1-m.Tolerance
	}
	return z > crit && ratio > 1+m.Tolerance
}

// mannWhitneyZ is the normal approximation of the Mann-Whitney U statistic
// of canary over baseline, with tie correction and continuity correction
// (as R's wilcox.test, which Kayenta calls).
func mannWhitneyZ(base, can []float64) float64 {
	n1, n2 := float64(len(can)), float64(len(base))
	type obs struct {
		v      float64
		canary bool
	}
	all := make([]obs, 0, len(base)+len(can))
	for _, v := range base {
		all = append(all, obs{v, false})
	}
	for _, v := range can {
		all = append(all, obs{v, true})
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	var rankSum, tieTerm float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // average of ranks i+1..j
		t := float64(j - i)
		tieTerm += t*t*t - t
		for _, o := range all[i:j] {
			if o.canary {
				rankSum += rank
			}
		}
		i = j
	}
	u := rankSum - n1*(n1+1)/2
	n := n1 + n2
	sd := math.Sqrt(n1 * n2 / 12 * ((n + 1) - tieTerm/(n*(n-1))))
	if sd == 0 {
		return 0
	}
	d := u - n1*n2/2
	d -= math.Copysign(math.Min(0.5, math.Abs(d)), d)
	return d / sd
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func normalQuantile(p float64) float64 {
	return -math.Sqrt2 * math.Erfcinv(2*p)
}
