// Package rollout is the pure core of canary rollouts: the plan a manifest
// asks for and the state machine that walks it, with no I/O and no clock.
package rollout

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// The plan's defaults (DESIGN.md, "Rollout plan").
const (
	DefaultEnvironment = "production"
	DefaultProvider    = "prometheus"
	DefaultInterval    = 5 * time.Minute
	DefaultDirection   = "increase_is_bad"
	DefaultTolerance   = 0.05
	// DefaultConsecutiveErrorLimit is how many looks in a row the metrics
	// provider may fail (down, too slow, no data) before the rollout pauses.
	DefaultConsecutiveErrorLimit = 3
)

// The gates a stage may have; "" behaves as auto.
const (
	GateAuto   = "auto"
	GateManual = "manual"
)

// Where each source of a plan is reported in errors.
const (
	manifestPath = "spec.rollout"
	defaultsPath = ".github/modelgate.yml: rollout"
)

// Plan is a validated rollout plan.
type Plan struct {
	Environment string
	// Baseline is the version to compare with and return to; "" means the
	// version live in the environment, which the engine resolves.
	Baseline string
	Stages   []Stage
	Analysis Analysis
}

// Stage is one traffic step of the rollout.
type Stage struct {
	// Traffic is the percentage of traffic the canary receives.
	Traffic float64
	// Analysis is the length of the analysis window; 0 means none.
	Analysis time.Duration
	// Gate is "", auto or manual.
	Gate string
}

// Analysis says how stages are judged.
type Analysis struct {
	Provider string
	Interval time.Duration
	Metrics  []Metric
	// ConsecutiveErrorLimit is how many looks in a row may find no
	// answer from the provider before the rollout pauses.
	ConsecutiveErrorLimit int
}

// The kinds of metric (DESIGN.md, "Rollout plan").
const (
	// KindQuery is any PromQL, sampled without overlap (the default).
	KindQuery = "query"
	// KindRatio is two counter selectors, errors among total requests,
	// judged on their counts per slice.
	KindRatio = "ratio"
	// KindHistogram is a histogram's selector and a quantile, judged on
	// its bucket counts per slice.
	KindHistogram = "histogram"
)

// Metric is one metric the judge compares between baseline and canary.
type Metric struct {
	Name string
	// Kind is KindQuery, KindRatio or KindHistogram; "" in plans stored
	// before kinds existed, which are queries.
	Kind      string `json:",omitempty"`
	Query     string `json:",omitempty"`
	Direction string
	// Errors and Total are a ratio's counter selectors.
	Errors string `json:",omitempty"`
	Total  string `json:",omitempty"`
	// Histogram is a histogram's selector (without _bucket) and Quantile
	// the quantile judged, in (0, 1).
	Histogram string  `json:",omitempty"`
	Quantile  float64 `json:",omitempty"`
	Tolerance float64
	Critical  bool
}

// MetricKind is the metric's kind, KindQuery when unset.
func (m Metric) MetricKind() string {
	if m.Kind == "" {
		return KindQuery
	}
	return m.Kind
}

// kindFields are the fields each kind requires; the others are refused.
var kindFields = map[string][]string{
	KindQuery:     {"query"},
	KindRatio:     {"errors", "total"},
	KindHistogram: {"histogram", "quantile"},
}

// Looks is the number of judge looks the stage plans: its analysis window
// divided by the interval (0 for a stage without analysis).
func (p Plan) Looks(stage int) int {
	if stage < 0 || stage >= len(p.Stages) || p.Analysis.Interval <= 0 {
		return 0
	}
	return int(p.Stages[stage].Analysis / p.Analysis.Interval)
}

// ParsePlan reads a manifest's spec.rollout over the repository's default
// plan. A field of the manifest replaces the same field of the defaults;
// the analysis block is merged field by field. Either map may be nil.
func ParsePlan(raw, defaults map[string]any) (Plan, error) {
	src, err := merge(raw, defaults)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Environment: DefaultEnvironment, Analysis: Analysis{Provider: DefaultProvider, Interval: DefaultInterval,
		ConsecutiveErrorLimit: DefaultConsecutiveErrorLimit}}
	if err := src.str("environment", &p.Environment); err != nil {
		return Plan{}, err
	}
	if err := src.str("baseline", &p.Baseline); err != nil {
		return Plan{}, err
	}
	if err := src.str("analysis.provider", &p.Analysis.Provider); err != nil {
		return Plan{}, err
	}
	if err := parseInterval(src, &p.Analysis.Interval); err != nil {
		return Plan{}, err
	}
	if err := parseErrorLimit(src, &p.Analysis.ConsecutiveErrorLimit); err != nil {
		return Plan{}, err
	}
	if p.Stages, err = parseStages(src, p.Analysis.Interval); err != nil {
		return Plan{}, err
	}
	if p.Analysis.Metrics, err = parseMetrics(src); err != nil {
		return Plan{}, err
	}
	if err := checkMetricsNeeded(src, p); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// source is the merged plan: each field with the path it came from.
type source struct {
	values map[string]any
	paths  map[string]string
}

func (s source) path(key string) string {
	if p, ok := s.paths[key]; ok {
		return p + "." + key
	}
	return manifestPath + "." + key
}

// str reads an optional, non-empty string field.
func (s source) str(key string, dst *string) error {
	v, ok := s.values[key]
	if !ok {
		return nil
	}
	str, err := asString(s.path(key), v)
	if err != nil {
		return err
	}
	if str == "" {
		return fmt.Errorf("%s: empty", s.path(key))
	}
	*dst = str
	return nil
}

// merge flattens both maps into one source, the manifest winning.
func merge(raw, defaults map[string]any) (source, error) {
	s := source{values: map[string]any{}, paths: map[string]string{}}
	for _, layer := range []struct {
		m    map[string]any
		path string
	}{{defaults, defaultsPath}, {raw, manifestPath}} {
		if err := s.add(layer.m, layer.path); err != nil {
			return source{}, err
		}
	}
	return s, nil
}

func (s source) add(m map[string]any, path string) error {
	if err := unknownKeys(path, m, []string{"environment", "baseline", "stages", "analysis"}); err != nil {
		return err
	}
	for k, v := range m {
		if k != "analysis" {
			s.values[k], s.paths[k] = v, path
			continue
		}
		am, err := asMap(path+".analysis", v)
		if err != nil {
			return err
		}
		if err := unknownKeys(path+".analysis", am, []string{"provider", "interval", "metrics", "consecutive_error_limit"}); err != nil {
			return err
		}
		for ak, av := range am {
			s.values["analysis."+ak], s.paths["analysis."+ak] = av, path
		}
	}
	return nil
}

func unknownKeys(path string, m map[string]any, known []string) error {
	var unknown []string
	for k := range m {
		if !contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("%s.%s: unknown field (want one of %v)", path, unknown[0], known)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseInterval(src source, dst *time.Duration) error {
	v, ok := src.values["analysis.interval"]
	if !ok {
		return nil
	}
	path := src.path("analysis.interval")
	d, err := asDuration(path, v)
	if err != nil {
		return err
	}
	*dst = d
	return nil
}

func parseErrorLimit(src source, dst *int) error {
	v, ok := src.values["analysis.consecutive_error_limit"]
	if !ok {
		return nil
	}
	path := src.path("analysis.consecutive_error_limit")
	n, err := asNumber(path, v)
	if err != nil {
		return err
	}
	if n < 1 || n > 100 || n != float64(int(n)) {
		return fmt.Errorf("%s: %g is not a whole number from 1 to 100", path, n)
	}
	*dst = int(n)
	return nil
}

func parseStages(src source, interval time.Duration) ([]Stage, error) {
	path := src.path("stages")
	v, ok := src.values["stages"]
	if !ok {
		return nil, fmt.Errorf("%s: missing; a plan needs at least one stage", path)
	}
	list, err := asList(path, v)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: empty; a plan needs at least one stage", path)
	}
	stages := make([]Stage, len(list))
	for i, item := range list {
		if stages[i], err = parseStage(fmt.Sprintf("%s[%d]", path, i), item, interval); err != nil {
			return nil, err
		}
	}
	return stages, checkStages(path, stages)
}

func parseStage(path string, item any, interval time.Duration) (Stage, error) {
	m, err := asMap(path, item)
	if err != nil {
		return Stage{}, err
	}
	if err := unknownKeys(path, m, []string{"traffic", "analysis", "gate"}); err != nil {
		return Stage{}, err
	}
	var st Stage
	if st.Traffic, err = parseTraffic(path+".traffic", m); err != nil {
		return Stage{}, err
	}
	if v, ok := m["analysis"]; ok {
		if st.Analysis, err = asDuration(path+".analysis", v); err != nil {
			return Stage{}, err
		}
		if st.Analysis < interval {
			return Stage{}, fmt.Errorf("%s.analysis: %s is shorter than the analysis interval %s", path, st.Analysis, interval)
		}
	}
	if v, ok := m["gate"]; ok {
		if st.Gate, err = asString(path+".gate", v); err != nil {
			return Stage{}, err
		}
		if st.Gate != GateManual && st.Gate != GateAuto {
			return Stage{}, fmt.Errorf("%s.gate: %q is not manual or auto", path, st.Gate)
		}
	}
	return st, nil
}

func parseTraffic(path string, m map[string]any) (float64, error) {
	v, ok := m["traffic"]
	if !ok {
		return 0, fmt.Errorf("%s: missing", path)
	}
	t, err := asNumber(path, v)
	if err != nil {
		return 0, err
	}
	switch {
	case t <= 0:
		return 0, fmt.Errorf("%s: %g is not above 0", path, t)
	case t > 100:
		return 0, fmt.Errorf("%s: %g is over 100", path, t)
	}
	return t, nil
}

// checkStages checks what concerns more than one stage.
func checkStages(path string, stages []Stage) error {
	last := len(stages) - 1
	for i := 1; i < len(stages); i++ {
		if stages[i].Traffic <= stages[i-1].Traffic {
			return fmt.Errorf("%s[%d].traffic: %g is not above the previous stage's %g",
				path, i, stages[i].Traffic, stages[i-1].Traffic)
		}
	}
	if stages[last].Traffic != 100 {
		return fmt.Errorf("%s[%d].traffic: the last stage must be 100, not %g", path, last, stages[last].Traffic)
	}
	for i, st := range stages[:last] {
		if st.Analysis == 0 {
			return fmt.Errorf("%s[%d].analysis: missing; only the last stage, at 100, may omit it", path, i)
		}
	}
	return nil
}

func parseMetrics(src source) ([]Metric, error) {
	v, ok := src.values["analysis.metrics"]
	if !ok {
		return nil, nil
	}
	path := src.path("analysis.metrics")
	list, err := asList(path, v)
	if err != nil {
		return nil, err
	}
	metrics := make([]Metric, len(list))
	seen := map[string]int{}
	for i, item := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if metrics[i], err = parseMetric(p, item); err != nil {
			return nil, err
		}
		if j, dup := seen[metrics[i].Name]; dup {
			return nil, fmt.Errorf("%s.name: %q is also the name of metrics[%d]", p, metrics[i].Name, j)
		}
		seen[metrics[i].Name] = i
	}
	return metrics, nil
}

func parseMetric(path string, item any) (Metric, error) {
	m, err := asMap(path, item)
	if err != nil {
		return Metric{}, err
	}
	known := []string{"name", "kind", "query", "errors", "total", "histogram", "quantile", "direction", "tolerance", "critical"}
	if err := unknownKeys(path, m, known); err != nil {
		return Metric{}, err
	}
	met := Metric{Kind: KindQuery, Direction: DefaultDirection, Tolerance: DefaultTolerance}
	fields := source{values: m, paths: map[string]string{}}
	for _, k := range known {
		fields.paths[k] = path
	}
	if _, ok := m["name"]; !ok {
		return Metric{}, fmt.Errorf("%s.name: missing", path)
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"name", &met.Name}, {"kind", &met.Kind}, {"direction", &met.Direction}} {
		if err := fields.str(f.key, f.dst); err != nil {
			return Metric{}, err
		}
	}
	if err := parseKindFields(path, fields, &met); err != nil {
		return Metric{}, err
	}
	if met.Direction != "increase_is_bad" && met.Direction != "decrease_is_bad" {
		return Metric{}, fmt.Errorf("%s.direction: %q is not increase_is_bad or decrease_is_bad", path, met.Direction)
	}
	if err := parseTolerance(path, m, &met); err != nil {
		return Metric{}, err
	}
	if v, ok := m["critical"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return Metric{}, fmt.Errorf("%s.critical: want true or false, got %s", path, kind(v))
		}
		met.Critical = b
	}
	return met, nil
}

// parseKindFields reads the fields of the metric's kind and refuses those
// of the other kinds.
func parseKindFields(path string, fields source, met *Metric) error {
	need, ok := kindFields[met.Kind]
	if !ok {
		return fmt.Errorf("%s.kind: %q is not %s, %s or %s", path, met.Kind, KindQuery, KindRatio, KindHistogram)
	}
	for _, other := range []string{KindQuery, KindRatio, KindHistogram} {
		for _, f := range kindFields[other] {
			_, set := fields.values[f]
			switch {
			case set && !contains(need, f):
				return fmt.Errorf("%s.%s: only a metric of kind %s has it, this one is of kind %s", path, f, other, met.Kind)
			case !set && contains(need, f):
				return fmt.Errorf("%s.%s: missing; a metric of kind %s needs %s", path, f, met.Kind, strings.Join(need, " and "))
			}
		}
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"query", &met.Query}, {"errors", &met.Errors}, {"total", &met.Total}, {"histogram", &met.Histogram}} {
		if err := fields.str(f.key, f.dst); err != nil {
			return err
		}
	}
	if v, ok := fields.values["quantile"]; ok {
		q, err := asNumber(path+".quantile", v)
		if err != nil {
			return err
		}
		if !(q > 0 && q < 1) {
			return fmt.Errorf("%s.quantile: %g is not between 0 and 1 (0.99 for p99)", path, q)
		}
		met.Quantile = q
	}
	return nil
}

func parseTolerance(path string, m map[string]any, met *Metric) error {
	v, ok := m["tolerance"]
	if !ok {
		return nil
	}
	t, err := asNumber(path+".tolerance", v)
	if err != nil {
		return err
	}
	switch {
	case t < 0:
		return fmt.Errorf("%s.tolerance: %g is negative", path, t)
	case t == 0:
		return fmt.Errorf("%s.tolerance: 0: the judge needs a positive relative change it may accept (0.05 = 5 %%)", path)
	case met.Direction == "decrease_is_bad" && t >= 1:
		return fmt.Errorf("%s.tolerance: %g: a decrease of 100 %% or more is impossible; must be below 1", path, t)
	}
	met.Tolerance = t
	return nil
}

func checkMetricsNeeded(src source, p Plan) error {
	if len(p.Analysis.Metrics) > 0 {
		return nil
	}
	for i, st := range p.Stages {
		if st.Analysis > 0 {
			return fmt.Errorf("%s: no metric, but stages[%d] has an analysis window", src.path("analysis.metrics"), i)
		}
	}
	return nil
}
