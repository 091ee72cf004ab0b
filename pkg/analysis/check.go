package analysis

import (
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// CheckPlan checks what the plan's metrics ask of Prometheus before a
// rollout starts: the counter and histogram selectors are plain series
// selectors, and every query leaves each stage with analysis enough
// samples that do not overlap for a look to fail (judge.MinPlannedSamples):
// a rate over [1m] judged in a 60 s window is one sample, not the 10 a
// step of 6 s would pretend.
func CheckPlan(p rollout.Plan) error {
	for i, m := range p.Analysis.Metrics {
		if err := checkMetric(p, m); err != nil {
			return fmt.Errorf("analysis.metrics[%d] (%s): %w", i, m.Name, err)
		}
	}
	return nil
}

func checkMetric(p rollout.Plan, m rollout.Metric) error {
	switch m.MetricKind() {
	case rollout.KindRatio:
		if err := metrics.CheckSelector(m.Errors); err != nil {
			return fmt.Errorf("errors: %w", err)
		}
		if err := metrics.CheckSelector(m.Total); err != nil {
			return fmt.Errorf("total: %w", err)
		}
		return nil
	case rollout.KindHistogram:
		if err := metrics.CheckSelector(m.Histogram); err != nil {
			return fmt.Errorf("histogram: %w", err)
		}
		return nil
	}
	longest, err := metrics.LongestRange(m.Query)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	step := max(longest, p.Analysis.Interval/SamplesPerInterval)
	for i, st := range p.Stages {
		n := int(st.Analysis / step)
		if st.Analysis == 0 || p.Looks(i) <= 1 || n >= judge.MinPlannedSamples {
			continue
		}
		return fmt.Errorf("query: its samples, %v apart so that no two overlap (its longest range is %v), give stage %d's %v window "+
			"%d independent samples, and a look needs %d to fail: use kind ratio or histogram, a range of at most %v, or a longer window",
			step, longest, i+1, st.Analysis, n, judge.MinPlannedSamples, (st.Analysis / judge.MinPlannedSamples).Truncate(time.Second))
	}
	return nil
}
