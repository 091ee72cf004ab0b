// Package judge decides, from each metric's data on baseline and canary,
// whether a canary passes, fails or is not yet decidable.
//
// Per metric it runs a one-sided sequential test of "the canary is worse than
// the baseline" in the metric's bad direction only, estimates the relative
// change with a confidence interval, and gives a verdict: fail when the
// canary is significantly worse AND the estimated change is beyond the
// metric's tolerance; nodata when the data cannot be judged; pass otherwise.
//
// What the error rate promises, and when. The chance that a canary that
// changed nothing is ever failed, over all the looks of a stage and (with
// Holm, the default) all the metrics of the plan, is at most 1 − Confidence
// (1 %) when the data are what each kind assumes; ACCURACY.md measures it
// on a real Prometheus:
//
//   - KindRatio and KindHistogram metrics are judged on request counts over
//     disjoint slices of the window (counts.go). Requests are the
//     independent units; the slices' dispersion is estimated, so bursty
//     traffic is allowed for. This is the kind the promise is made for;
//     measured, it holds (0–0.9 %), and for bursty error rates, but bursts
//     of latency that outlast a slice take a histogram metric to 3–4 %.
//   - KindQuery metrics are judged on samples, which must be independent
//     draws: samples of overlapping rate windows, of a drifting gauge, or a
//     value repeated at a step shorter than the scrape interval are not, and
//     a judge fed them as if they were rolls back unchanged canaries 15 to
//     60 % of the time (ACCURACY.md). The engine samples a query no closer
//     than its longest range and judges batch means (pkg/analysis); callers
//     of this package must do the same.
//
// Looks. When the caller says how many looks it plans (JudgeAt with a
// Look: the stage's analysis window divided by the interval, 1 for a
// one-shot judgement), a group-sequential test spends its share of α over
// exactly those looks (see groupseq.go and Config.OverrunShare). When the
// number of looks is unknown (Judge), or for looks beyond the plan, a
// mixture sequential probability ratio test (see sequential.go) stays valid
// however often it is run. Both assume the statistic's increments between
// looks are independent, which is what counts over disjoint slices give.
//
// Calling it. The judge is pure and keeps no state but a cache of
// boundaries: at every analysis interval, pass each metric of the rollout
// plan with all its data since the window opened, and the look's index
// and planned count; act on a "fail" at once, promote on "pass" when the
// window is over or earlier when every Result is WithinTolerance, and wait
// or ask a human on "inconclusive". Result.String renders a line for a PR
// comment; see ACCURACY.md for the method and its measured accuracy.
//
// Feeding samples (KindQuery). Each sample is one observation of the
// metric over its own interval, the same interval length on both sides.
// Values must be non-negative, because changes are relative.
//
//   - Positive, continuous metrics (latency, memory, cost, F1) are compared on
//     the log scale with 10 % trimmed means (Yuen's test): robust to spikes,
//     and a ratio is what "+10 %" means for a skewed distribution.
//   - Rates (error rate): prefer KindRatio, which has the counts. Sampled
//     rates are compared as plain means on the raw scale (Welch) as soon as
//     a zero appears on either side; a rank test (Kayenta's Mann-Whitney)
//     reads the canary's many empty intervals as an improvement and misses
//     a doubled error rate.
//
// The decision over all metrics follows Kayenta: a failed critical metric
// fails the canary at once; otherwise the score is the percentage of metrics
// with data that pass, compared with the pass and marginal thresholds; a
// marginal score, or a critical metric without data, is inconclusive.
package judge

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Direction says which way a metric's change is bad.
type Direction string

// The directions of the rollout plan.
const (
	IncreaseIsBad Direction = "increase_is_bad"
	DecreaseIsBad Direction = "decrease_is_bad"
)

// Verdict is one metric's outcome.
type Verdict string

// The verdicts of one metric.
const (
	Pass   Verdict = "pass"
	Fail   Verdict = "fail"
	NoData Verdict = "nodata"
)

// Decision is the outcome for the whole canary.
type Decision string

// The decisions over all metrics.
const (
	DecisionPass         Decision = "pass"
	DecisionFail         Decision = "fail"
	DecisionInconclusive Decision = "inconclusive"
)

// ErrInvalidMetric is wrapped by every error about a metric's definition.
var ErrInvalidMetric = errors.New("invalid metric")

// ErrInvalidLook is wrapped by every error about a Look.
var ErrInvalidLook = errors.New("invalid look")

// Look places a judgement in the analysis plan of a stage. The zero Look
// means the number of looks is unknown.
type Look struct {
	// Planned is how many times the window will be judged: the stage's
	// analysis window divided by the analysis interval (30m / 5m = 6), 1 for
	// a one-shot judgement, 0 when unknown. Looks are assumed equally
	// spaced, with samples accruing at a steady rate.
	Planned int
	// Index is which look this is, from 1. Looks beyond Planned are judged
	// with the mixture SPRT at the share of α the Config keeps for them.
	// In a plan of several looks, a look with fewer than 10 samples on a
	// side reports its estimate but cannot fail (see ACCURACY.md).
	Index int
}

// Metric is one metric of the rollout plan with its data so far.
type Metric struct {
	Name string
	// Kind says which data the metric has: Baseline and Canary samples
	// (KindQuery, or empty), Ratio counts or Histogram counts.
	Kind      Kind
	Direction Direction
	// Tolerance is the relative change that is acceptable (0.05 = 5 %).
	Tolerance float64
	// Critical metrics fail the canary at once.
	Critical bool
	// Baseline and Canary are a KindQuery metric's samples.
	Baseline []float64
	Canary   []float64
	// Ratio holds a KindRatio metric's counts per slice.
	Ratio *Ratio
	// Histogram holds a KindHistogram metric's bucket counts per slice.
	Histogram *Histogram
	// Scale forces the working scale; by default (ScaleAuto) it is ScaleLog
	// when every sample is positive and ScaleMean otherwise. Callers that
	// know a metric is a rate should set ScaleMean: with unequal traffic the
	// side with fewer events per interval has a lower mean log (Jensen), by
	// about 1/(2·events per interval).
	Scale Scale
}

// Scale is the scale a metric is compared on.
type Scale string

// The scales.
const (
	ScaleAuto Scale = ""
	// ScaleLog compares 10 % trimmed means of logs (latency, memory, cost, F1).
	ScaleLog Scale = "log"
	// ScaleMean compares plain means (rates and counts).
	ScaleMean Scale = "mean"
)

// kind is the metric's kind, KindQuery when unset.
func (m Metric) kind() Kind {
	if m.Kind == "" {
		return KindQuery
	}
	return m.Kind
}

// Result is one metric's judgement.
type Result struct {
	Name     string
	Kind     Kind
	Critical bool
	Verdict  Verdict
	// Change is the estimated relative change of the canary against the
	// baseline (0.031 = +3.1 %) and CI its confidence interval at the
	// judge's Confidence: anytime-valid for the mixture SPRT, valid at every
	// planned look for the group-sequential test. Both are NaN when Verdict
	// is NoData.
	Change float64
	CI     [2]float64
	// P is the p-value of "the canary is worse in the bad direction"
	// (anytime-valid, or stage-wise at a planned look), scaled by the share
	// of α its test may spend, so that a failure has P <= 1 - Confidence;
	// NaN when Verdict is NoData.
	P float64
	// Confidence is the level of CI and of the test (0.99).
	Confidence float64
	// Look is the look of the group-sequential test that judged the metric;
	// zero when the anytime-valid mixture SPRT did (no plan, or a look
	// beyond it).
	Look Look
	// WithinTolerance is true when the whole interval is on the good side of
	// the tolerance: the data rule out a regression beyond it.
	WithinTolerance bool
	// Scale is the scale the metric was compared on.
	Scale Scale
	// BaselineN and CanaryN are the numbers of samples used, or of slices
	// for the count kinds.
	BaselineN, CanaryN int
	// Baseline and Canary are each side's value: the median sample, the
	// rate of a ratio (errors / total), the quantile of a histogram; NaN
	// when unknown.
	Baseline, Canary float64
	// BaselineRequests and CanaryRequests are the requests the count kinds
	// counted on each side (0 for samples).
	BaselineRequests, CanaryRequests float64
	// Dispersion is the over-dispersion φ applied to a count kind's test
	// (1: the counts vary between slices as independent requests do); 0
	// for samples.
	Dispersion float64
	// Reason says why a metric has no data or failed, in words.
	Reason string
}

// String renders the result for a PR comment:
// "latency_p99_ms +12.3 % [+8.1 %, +16.4 %], fail, p=0.0012 (99 % anytime-valid)",
// or "(99 % at look 3 of 6)" when a planned group-sequential test judged it.
func (r Result) String() string {
	if r.Verdict == NoData {
		return fmt.Sprintf("%s nodata: %s", r.Name, r.Reason)
	}
	kind := "anytime-valid"
	if r.Look.Planned > 0 {
		kind = fmt.Sprintf("at look %d of %d", r.Look.Index, r.Look.Planned)
	}
	return fmt.Sprintf("%s %s [%s, %s], %s, p=%.2g (%g %% %s)",
		r.Name, percent(r.Change), percent(r.CI[0]), percent(r.CI[1]), r.Verdict, r.P,
		math.Round(r.Confidence*1000)/10, kind)
}

func percent(x float64) string {
	return fmt.Sprintf("%+.1f %%", 100*x)
}

// Report is the judgement of a canary over all its metrics.
type Report struct {
	Decision Decision
	// Score is the percentage of metrics with data that pass (NaN when none
	// has data).
	Score   float64
	Metrics []Result
	// Reason explains the decision in a sentence.
	Reason string
}

// Config tunes the judge; DefaultConfig gives the documented defaults.
type Config struct {
	// Confidence is 1 - α of the sequential test and of the intervals.
	Confidence float64
	// PassScore and MarginalScore are Kayenta's thresholds (percentages).
	PassScore, MarginalScore float64
	// MinSamples is the fewest samples per side a metric is judged on.
	MinSamples int
	// MaxSamples is the most samples per side a metric accepts.
	MaxSamples int
	// Trim is the fraction trimmed from each end on the log scale.
	Trim float64
	// PriorScale is the standard deviation of the sequential test's mixture
	// prior on the standardized effect (the change in per-sample standard
	// deviations); it sets which sample sizes the test is sharpest at.
	PriorScale float64
	// SpendingPower is ρ of the planned test's α-spending function α·t^ρ:
	// 1 spends early (close to Pocock), 3 late (close to O'Brien-Fleming);
	// 0 means DefaultSpendingPower.
	SpendingPower float64
	// OverrunShare is the share of α kept for looks beyond Look.Planned,
	// judged with the mixture SPRT; the planned looks spend the rest, so
	// that a stage that runs long still fails an unchanged canary with at
	// most α. When the plan is kept, it is the margin that absorbs the
	// small-sample excess of the t approximation (ACCURACY.md). With 0, a
	// look beyond the plan is an error (ErrInvalidLook).
	OverrunShare float64
	// NullAtTolerance tests "change <= tolerance" instead of "change <= 0"
	// (and fails when that is rejected): stricter, so it rarely fails a
	// change inside the tolerance, and detects less.
	NullAtTolerance bool
	// Multiplicity is how JudgeAt shares α among the metrics of a plan.
	Multiplicity Multiplicity
}

// Multiplicity is how α is shared among the metrics of one judgement.
type Multiplicity string

// The ways to share α among metrics.
const (
	// PerMetric gives each metric the whole α: with m metrics, an
	// unchanged canary fails up to m·α of the time.
	PerMetric Multiplicity = ""
	// Holm is Holm's step-down over the metrics: the most significant is
	// tested at α/m, the next at α/(m−1) once it failed, and so on, so
	// that an unchanged canary fails at most α over all metrics (each
	// metric's group-sequential boundary computed at its level).
	Holm Multiplicity = "holm"
)

// DefaultSpendingPower is the planned test's default ρ (see ACCURACY.md).
const DefaultSpendingPower = 2

// DefaultConfig returns 99 % confidence, pass 95, marginal 75, 5 to
// 1,000,000 samples per side, 10 % trimming, a prior scale of 1, spending
// power 2, 40 % of α kept for looks beyond the plan, and Holm's step-down
// over the metrics.
func DefaultConfig() Config {
	return Config{Confidence: 0.99, PassScore: 95, MarginalScore: 75,
		MinSamples: 5, MaxSamples: 1_000_000, Trim: 0.1, PriorScale: 1,
		SpendingPower: DefaultSpendingPower, OverrunShare: 0.4, Multiplicity: Holm}
}

// Judge judges canaries; it is safe for concurrent use.
type Judge struct {
	cfg    Config
	bounds *boundaries
}

// New checks cfg and returns a judge.
func New(cfg Config) (*Judge, error) {
	switch {
	case !(cfg.Confidence > 0.5 && cfg.Confidence < 1):
		return nil, fmt.Errorf("confidence %v: must be in (0.5, 1)", cfg.Confidence)
	case !(cfg.MarginalScore >= 0 && cfg.MarginalScore <= cfg.PassScore && cfg.PassScore <= 100):
		return nil, fmt.Errorf("scores: need 0 <= marginal (%v) <= pass (%v) <= 100", cfg.MarginalScore, cfg.PassScore)
	case cfg.MinSamples < 2 || cfg.MaxSamples < cfg.MinSamples:
		return nil, fmt.Errorf("samples: need 2 <= min (%d) <= max (%d)", cfg.MinSamples, cfg.MaxSamples)
	case !(cfg.Trim >= 0 && cfg.Trim < 0.5):
		return nil, fmt.Errorf("trim %v: must be in [0, 0.5)", cfg.Trim)
	case !(cfg.PriorScale > 0) || math.IsInf(cfg.PriorScale, 1):
		return nil, fmt.Errorf("prior scale %v: must be positive", cfg.PriorScale)
	case !(cfg.SpendingPower >= 0 && cfg.SpendingPower <= 10):
		return nil, fmt.Errorf("spending power %v: must be in (0, 10], or 0 for the default", cfg.SpendingPower)
	case !(cfg.OverrunShare >= 0 && cfg.OverrunShare < 1):
		return nil, fmt.Errorf("overrun share %v: must be in [0, 1)", cfg.OverrunShare)
	case cfg.Multiplicity != PerMetric && cfg.Multiplicity != Holm:
		return nil, fmt.Errorf("multiplicity %q: want %q or empty", cfg.Multiplicity, Holm)
	}
	if cfg.SpendingPower == 0 {
		cfg.SpendingPower = DefaultSpendingPower
	}
	return &Judge{cfg: cfg, bounds: &boundaries{rho: cfg.SpendingPower}}, nil
}

// Judge judges every metric and decides over all of them, not knowing how
// many looks the caller will take: JudgeAt with the zero Look.
func (j *Judge) Judge(metrics []Metric) (Report, error) {
	return j.JudgeAt(Look{}, metrics)
}

// JudgeAt judges every metric at the given look of the plan and decides
// over all of them. It returns an error only for an invalid plan (no
// metrics, a bad name, direction or tolerance, a name twice) or look;
// samples that cannot be judged give NoData.
func (j *Judge) JudgeAt(look Look, metrics []Metric) (Report, error) {
	if err := j.checkLook(look); err != nil {
		return Report{}, err
	}
	if len(metrics) == 0 {
		return Report{}, fmt.Errorf("%w: no metrics", ErrInvalidMetric)
	}
	seen := make(map[string]bool, len(metrics))
	for _, m := range metrics {
		if seen[m.Name] {
			return Report{}, fmt.Errorf("%w: metric %q listed twice", ErrInvalidMetric, m.Name)
		}
		seen[m.Name] = true
	}
	results, err := j.stepDown(look, metrics)
	if err != nil {
		return Report{}, err
	}
	return j.decide(results), nil
}

// stepDown judges every metric at its share of α: the whole α for
// PerMetric; for Holm, α/m for all, then α/(m−f) for those that have not
// failed once f have, until no more fail.
func (j *Judge) stepDown(look Look, metrics []Metric) ([]Result, error) {
	results := make([]Result, len(metrics))
	failed := 0
	for {
		level := 1.0
		if j.cfg.Multiplicity == Holm {
			level = 1 / float64(len(metrics)-failed)
		}
		more := 0
		for i, m := range metrics {
			if results[i].Verdict == Fail {
				continue
			}
			r, err := j.metricAt(look, m, level)
			if err != nil {
				return nil, err
			}
			results[i] = r
			if r.Verdict == Fail {
				more++
			}
		}
		failed += more
		if more == 0 || failed == len(metrics) || j.cfg.Multiplicity != Holm {
			return results, nil
		}
	}
}

// checkLook returns why a look is invalid, or nil.
func (j *Judge) checkLook(l Look) error {
	switch {
	case l.Planned < 0 || l.Index < 0:
		return fmt.Errorf("%w: look %d of %d: negative", ErrInvalidLook, l.Index, l.Planned)
	case l.Planned > 0 && l.Index == 0:
		return fmt.Errorf("%w: look 0 of %d: looks count from 1", ErrInvalidLook, l.Planned)
	case l.Planned > 0 && l.Planned <= maxPlannedLooks && l.Index > l.Planned && j.cfg.OverrunShare == 0:
		return fmt.Errorf("%w: look %d of %d: beyond the plan, and the judge keeps no α for such looks (Config.OverrunShare)",
			ErrInvalidLook, l.Index, l.Planned)
	}
	return nil
}

// decide scores the per-metric results like Kayenta.
func (j *Judge) decide(results []Result) Report {
	rep := Report{Metrics: results, Score: math.NaN()}
	var judged, passed int
	var critFail, critMissing []string
	for _, r := range results {
		switch r.Verdict {
		case Fail:
			judged++
			if r.Critical {
				critFail = append(critFail, r.Name)
			}
		case Pass:
			judged++
			passed++
		case NoData:
			if r.Critical {
				critMissing = append(critMissing, r.Name)
			}
		}
	}
	if judged > 0 {
		rep.Score = 100 * float64(passed) / float64(judged)
	}
	switch {
	case len(critFail) > 0:
		rep.Decision = DecisionFail
		rep.Reason = "critical metric failed: " + strings.Join(critFail, ", ")
	case judged == 0:
		rep.Decision = DecisionInconclusive
		rep.Reason = "no metric has data"
	case rep.Score < j.cfg.MarginalScore:
		rep.Decision = DecisionFail
		rep.Reason = fmt.Sprintf("score %.0f below marginal threshold %g", rep.Score, j.cfg.MarginalScore)
	case rep.Score < j.cfg.PassScore:
		rep.Decision = DecisionInconclusive
		rep.Reason = fmt.Sprintf("score %.0f is marginal (pass at %g)", rep.Score, j.cfg.PassScore)
	case len(critMissing) > 0:
		rep.Decision = DecisionInconclusive
		rep.Reason = "critical metric without data: " + strings.Join(critMissing, ", ")
	default:
		rep.Decision = DecisionPass
		rep.Reason = fmt.Sprintf("score %.0f", rep.Score)
	}
	return rep
}
