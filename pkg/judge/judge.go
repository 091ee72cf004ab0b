// Package judge decides, from samples of each metric on baseline and canary,
// whether a canary passes, fails or is not yet decidable.
//
// Per metric it runs a one-sided sequential test of "the canary is worse than
// the baseline" in the metric's bad direction only, estimates the relative
// change with an anytime-valid confidence interval, and gives a verdict:
// fail when the canary is significantly worse AND the estimated change is
// beyond the metric's tolerance; nodata when the samples cannot be judged;
// pass otherwise. The test is a mixture sequential probability ratio test
// (see sequential.go), so a caller may judge the growing window at every
// analysis interval: the chance that a canary that changed nothing is ever
// failed stays below 1 - Confidence.
//
// Calling it. The judge is pure and keeps no state: at every analysis
// interval, pass each metric of the rollout plan with all its samples since
// the window opened; act on a "fail" at once (the test stays valid however
// often it is run), promote on "pass" when the window is over or earlier
// when every Result is WithinTolerance, and wait or ask a human on
// "inconclusive". Result.String renders a line for a PR comment; see
// ACCURACY.md for the method and its measured accuracy.
//
// Feeding samples. Each sample is one observation of the metric: typically
// the metric's value over one short interval (latency_p99_ms per minute), the
// same interval length on both sides. Values must be non-negative, because
// changes are relative.
//
//   - Positive, continuous metrics (latency, memory, cost, F1) are compared on
//     the log scale with 10 % trimmed means (Yuen's test): robust to spikes,
//     and a ratio is what "+10 %" means for a skewed distribution.
//   - Rates (error rate): feed either per-interval rates over intervals of
//     equal traffic on each side, or one 0/1 sample per request. As soon as a
//     zero appears on either side (a canary at 5 % traffic sees intervals
//     without a single error), the judge compares plain means on the raw scale
//     (Welch), which is what a rate needs: per-interval rates are not
//     identically distributed when the two sides get different traffic, so a
//     rank test (Kayenta's Mann-Whitney) reads the canary's many empty
//     intervals as an improvement and misses a doubled error rate. Do not mix
//     intervals of very different traffic: their rates would weigh the same.
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

// Metric is one metric of the rollout plan with its samples so far.
type Metric struct {
	Name      string
	Direction Direction
	// Tolerance is the relative change that is acceptable (0.05 = 5 %).
	Tolerance float64
	// Critical metrics fail the canary at once.
	Critical bool
	Baseline []float64
	Canary   []float64
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

// Result is one metric's judgement.
type Result struct {
	Name     string
	Critical bool
	Verdict  Verdict
	// Change is the estimated relative change of the canary against the
	// baseline (0.031 = +3.1 %) and CI its anytime-valid confidence interval
	// at the judge's Confidence. Both are NaN when Verdict is NoData.
	Change float64
	CI     [2]float64
	// P is the anytime-valid p-value of "the canary is worse in the bad
	// direction"; NaN when Verdict is NoData.
	P float64
	// Confidence is the level of CI and of the test (0.99).
	Confidence float64
	// WithinTolerance is true when the whole interval is on the good side of
	// the tolerance: the data rule out a regression beyond it.
	WithinTolerance bool
	// Scale is the scale the metric was compared on.
	Scale Scale
	// BaselineN and CanaryN are the numbers of samples used.
	BaselineN, CanaryN int
	// Reason says why a metric has no data or failed, in words.
	Reason string
}

// String renders the result for a PR comment:
// "latency_p99_ms +12.3 % [+8.1 %, +16.4 %], fail, p=0.0012 (99 % anytime-valid)".
func (r Result) String() string {
	if r.Verdict == NoData {
		return fmt.Sprintf("%s nodata: %s", r.Name, r.Reason)
	}
	return fmt.Sprintf("%s %s [%s, %s], %s, p=%.2g (%g %% anytime-valid)",
		r.Name, percent(r.Change), percent(r.CI[0]), percent(r.CI[1]), r.Verdict, r.P,
		math.Round(r.Confidence*1000)/10)
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
}

// DefaultConfig returns 99 % confidence, pass 95, marginal 75, 5 to
// 1,000,000 samples per side, 10 % trimming and a prior scale of 1.
func DefaultConfig() Config {
	return Config{Confidence: 0.99, PassScore: 95, MarginalScore: 75,
		MinSamples: 5, MaxSamples: 1_000_000, Trim: 0.1, PriorScale: 1}
}

// Judge judges canaries; it is safe for concurrent use.
type Judge struct {
	cfg Config
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
	}
	return &Judge{cfg: cfg}, nil
}

// Judge judges every metric and decides over all of them. It returns an
// error only for an invalid plan (no metrics, a bad name, direction or
// tolerance, a name twice); samples that cannot be judged give NoData.
func (j *Judge) Judge(metrics []Metric) (Report, error) {
	if len(metrics) == 0 {
		return Report{}, fmt.Errorf("%w: no metrics", ErrInvalidMetric)
	}
	seen := make(map[string]bool, len(metrics))
	results := make([]Result, 0, len(metrics))
	for _, m := range metrics {
		if seen[m.Name] {
			return Report{}, fmt.Errorf("%w: metric %q listed twice", ErrInvalidMetric, m.Name)
		}
		seen[m.Name] = true
		r, err := j.Metric(m)
		if err != nil {
			return Report{}, err
		}
		results = append(results, r)
	}
	return j.decide(results), nil
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
