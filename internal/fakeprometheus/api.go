package fakeprometheus

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// The API paths the fake serves.
const (
	QueryRangePath = "/api/v1/query_range"
	ConfigPath     = "/api/v1/status/config"
)

// maxPoints is Prometheus's limit of steps in a range query.
const maxPoints = 11000

// maxSeconds bounds the Unix seconds read, so that milliseconds stay in
// an int64 (Prometheus reads larger values as garbage times).
const maxSeconds = 1e15

// ServeHTTP answers the API paths the fake serves, by GET or (the range
// query) a POSTed form, as Prometheus does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case QueryRangePath:
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			apiError(w, http.StatusMethodNotAllowed, "bad_data", "method "+r.Method+" not allowed")
			return
		}
		s.queryRange(w, r)
	case ConfigPath:
		if r.Method != http.MethodGet {
			apiError(w, http.StatusMethodNotAllowed, "bad_data", "method "+r.Method+" not allowed")
			return
		}
		s.config(w)
	default:
		apiError(w, http.StatusNotFound, "not_found", "only "+QueryRangePath+" and "+ConfigPath+" are served here")
	}
}

// rangeQuery is a parsed range query: what it selects and the
// evaluation times in milliseconds.
type rangeQuery struct {
	sel              selection
	start, end, step int64
}

// selection is what a query the fake answers selects: a plain
// selector's matchers, read each step as an instant selector, or, when
// last is set, as last_over_time(selector[last]).
type selection struct {
	matchers []*labels.Matcher
	last     time.Duration
	// newest asks for max(timestamp(selector)): the time of the newest
	// sample seen at each step.
	newest bool
}

func (s *Server) queryRange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	q, err := parseRangeQuery(r.Form.Get("query"), r.Form.Get("start"), r.Form.Get("end"), r.Form.Get("step"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	names, values := s.selectRange(q.sel, q.start, q.end, q.step)
	if q.sel.newest {
		names, values = newest(values)
	}
	result := make([]matrixSeries, len(names))
	for i := range names {
		result[i] = matrixSeries{Metric: names[i].Map(), Values: values[i]}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}})
}

// parseRangeQuery reads a range query's parameters as Prometheus does,
// with its error messages, and refuses what the fake does not evaluate.
func parseRangeQuery(query, startParam, endParam, stepParam string) (rangeQuery, error) {
	start, err := parseTime(startParam)
	if err != nil {
		return rangeQuery{}, invalidParam("start", err)
	}
	end, err := parseTime(endParam)
	if err != nil {
		return rangeQuery{}, invalidParam("end", err)
	}
	if end.Before(start) {
		return rangeQuery{}, invalidParam("end", errors.New("end timestamp must not be before start time"))
	}
	step, err := parseDuration(stepParam)
	if err != nil {
		return rangeQuery{}, invalidParam("step", err)
	}
	if step <= 0 {
		return rangeQuery{}, invalidParam("step", errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"))
	}
	if end.Sub(start)/step > maxPoints {
		return rangeQuery{}, errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
	}
	sel, err := parseSelection(query)
	if err != nil {
		return rangeQuery{}, invalidParam("query", err)
	}
	stepMs := step.Milliseconds()
	if stepMs < 1 {
		stepMs = 1 // Prometheus evaluates at millisecond resolution
	}
	return rangeQuery{sel: sel, start: start.UnixMilli(), end: end.UnixMilli(), step: stepMs}, nil
}

// newestOf reads max(timestamp(selector)), the one aggregation the fake
// evaluates, and returns the selector.
func newestOf(expr parser.Expr) (parser.Expr, bool) {
	agg, ok := expr.(*parser.AggregateExpr)
	if !ok || agg.Op != parser.MAX || agg.Param != nil || len(agg.Grouping) > 0 || agg.Without {
		return expr, false
	}
	call, ok := agg.Expr.(*parser.Call)
	if !ok || call.Func.Name != "timestamp" || len(call.Args) != 1 {
		return expr, false
	}
	return call.Args[0], true
}

// newest is max(timestamp(…)) of the selected series: one series without
// labels whose value at each step is the time of the newest sample seen
// there, in seconds.
func newest(values [][]point) ([]labels.Labels, [][]point) {
	at := map[int64]int64{}
	for _, ps := range values {
		for _, p := range ps {
			at[p.t] = max(at[p.t], p.sampled)
		}
	}
	if len(at) == 0 {
		return nil, nil
	}
	var ps []point
	for t, sampled := range at {
		ps = append(ps, point{t: t, v: float64(sampled) / 1000})
	}
	slices.SortFunc(ps, func(a, b point) int { return cmp.Compare(a.t, b.t) })
	return []labels.Labels{labels.EmptyLabels()}, [][]point{ps}
}

func invalidParam(name string, err error) error {
	return fmt.Errorf("invalid parameter %q: %w", name, err)
}

// parseSelection reads query with Prometheus's parser: a plain series
// selector, or last_over_time of one over a range (the provider's reads
// of counters at slice ends); anything else is refused with what it is,
// since the fake evaluates no other PromQL.
func parseSelection(query string) (selection, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		return selection{}, err
	}
	var sel selection
	if inner, ok := newestOf(expr); ok {
		expr, sel.newest = inner, true
	}
	if call, ok := expr.(*parser.Call); ok && call.Func.Name == "last_over_time" && len(call.Args) == 1 {
		if ms, ok := call.Args[0].(*parser.MatrixSelector); ok && ms.Range > 0 {
			expr, sel.last = ms.VectorSelector, ms.Range
		}
	}
	vs, ok := expr.(*parser.VectorSelector)
	switch {
	case !ok:
		return selection{}, fmt.Errorf("%s is not a plain series selector: the fake Prometheus evaluates no PromQL, "+
			"it answers only selectors such as name{label=\"value\"} and last_over_time(name{label=\"value\"}[1m])", query)
	case vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0:
		return selection{}, fmt.Errorf("%s has an offset or @ modifier: the fake Prometheus answers only plain series selectors", query)
	}
	sel.matchers = vs.LabelMatchers
	return sel, nil
}

// parseTime reads Unix seconds (to the millisecond) or an RFC 3339 time,
// as Prometheus does.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		if !(math.Abs(sec) < maxSeconds) {
			return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
		}
		frac = math.Round(frac*1000) / 1000
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration reads seconds or a Prometheus duration (5m, 1h30m).
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		ns := f * float64(time.Second)
		if math.IsNaN(ns) || ns >= math.MaxInt64 || ns < math.MinInt64 {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ns), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

// config answers the configuration the fake runs: its scrape interval,
// and a job per target.
func (s *Server) config(w http.ResponseWriter) {
	type static struct {
		Targets []string `yaml:"targets"`
	}
	type job struct {
		Name     string   `yaml:"job_name"`
		Interval string   `yaml:"scrape_interval"`
		Static   []static `yaml:"static_configs"`
	}
	cfg := struct {
		Global struct {
			Interval string `yaml:"scrape_interval"`
		} `yaml:"global"`
		Jobs []job `yaml:"scrape_configs"`
	}{}
	interval := model.Duration(s.interval).String()
	cfg.Global.Interval = interval
	for _, t := range s.targets {
		cfg.Jobs = append(cfg.Jobs, job{Name: t.Job, Interval: interval, Static: []static{{Targets: []string{t.Instance}}}})
	}
	text, err := yaml.Marshal(cfg)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": map[string]string{"yaml": string(text)}})
}

// matrixSeries is one series of a range query's answer.
type matrixSeries struct {
	Metric map[string]string `json:"metric"`
	Values []point           `json:"values"`
}

// MarshalJSON writes a point as Prometheus does: [seconds, "value"], the
// seconds to the millisecond.
func (p point) MarshalJSON() ([]byte, error) {
	v, err := json.Marshal(strconv.FormatFloat(p.v, 'f', -1, 64))
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "[%s,%s]", timestamp(p.t), v), nil
}

// timestamp writes milliseconds as seconds, as Prometheus does: three
// decimals, none for a whole second.
func timestamp(ms int64) string {
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	s := sign + strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		s += fmt.Sprintf(".%03d", frac)
	}
	return s
}

func apiError(w http.ResponseWriter, status int, kind, msg string) {
	writeJSON(w, status, map[string]any{"status": "error", "errorType": kind, "error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
