// Package fakeprometheus answers Prometheus' range-query API
// (/api/v1/query_range) from series computed in Go, for bot testdrive: the
// bot's real Prometheus provider, engine and judge read it as they read a
// real Prometheus. A query is a plain selector, name{label="value",…}, that
// names a series exactly; a query it cannot read gets Prometheus' bad_data
// answer, and a series it does not hold an empty result, as from Prometheus.
package fakeprometheus

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Series is a series' value at a time; ok is false where it has no sample.
type Series func(at time.Time) (value float64, ok bool)

// Server holds series by their selector and answers range queries.
type Server struct {
	mu     sync.Mutex
	series map[string]Series
	labels map[string]map[string]string
}

// New returns a server that holds no series.
func New() *Server {
	return &Server{series: map[string]Series{}, labels: map[string]map[string]string{}}
}

// Set holds series f under name and labels, replacing any before.
func (s *Server) Set(name string, labels map[string]string, f Series) {
	key := selectorKey(name, labels)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series[key] = f
	all := map[string]string{"__name__": name}
	for k, v := range labels {
		all[k] = v
	}
	s.labels[key] = all
}

var (
	selector = regexp.MustCompile(`^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*$`)
	matcher  = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$`)
)

// parseSelector reads name{label="value",…} with equality matchers only.
func parseSelector(q string) (string, map[string]string, error) {
	m := selector.FindStringSubmatch(q)
	if m == nil {
		return "", nil, fmt.Errorf("only plain selectors are served here, not %q", q)
	}
	labels := map[string]string{}
	if strings.TrimSpace(m[2]) != "" {
		for _, part := range strings.Split(m[2], ",") {
			lm := matcher.FindStringSubmatch(part)
			if lm == nil {
				return "", nil, fmt.Errorf("only label=\"value\" matchers are served here, not %q", part)
			}
			v, err := strconv.Unquote(`"` + lm[2] + `"`)
			if err != nil {
				return "", nil, fmt.Errorf("label value %q: %w", lm[2], err)
			}
			labels[lm[1]] = v
		}
	}
	return m[1], labels, nil
}

func selectorKey(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(name + "{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%s=%q", k, labels[k])
	}
	b.WriteString("}")
	return b.String()
}

// ServeHTTP answers /api/v1/query_range, by GET or by a POSTed form, as
// Prometheus does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query_range" {
		apiError(w, http.StatusNotFound, "bad_data", "only /api/v1/query_range is served here")
		return
	}
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	start, err1 := parseTime(r.Form.Get("start"))
	end, err2 := parseTime(r.Form.Get("end"))
	step, err3 := parseStep(r.Form.Get("step"))
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			apiError(w, http.StatusBadRequest, "bad_data", err.Error())
			return
		}
	}
	if end.Before(start) || end.Sub(start)/step > 11000 {
		apiError(w, http.StatusBadRequest, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries")
		return
	}
	name, labels, err := parseSelector(r.Form.Get("query"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	key := selectorKey(name, labels)
	s.mu.Lock()
	f, ok := s.series[key]
	all := s.labels[key]
	s.mu.Unlock()
	result := []any{}
	if ok {
		var values [][2]any
		for at := start; !at.After(end); at = at.Add(step) {
			if v, has := f(at); has && !math.IsNaN(v) {
				values = append(values, [2]any{float64(at.UnixMilli()) / 1000, strconv.FormatFloat(v, 'g', -1, 64)})
			}
		}
		if len(values) > 0 {
			result = append(result, map[string]any{"metric": all, "values": values})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}})
}

// parseTime reads an RFC 3339 time or Unix seconds, as Prometheus does.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
	}
	return t, nil
}

// parseStep reads a step in seconds or as a duration.
func parseStep(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
	}
	return d, nil
}

func apiError(w http.ResponseWriter, status int, kind, msg string) {
	writeJSON(w, status, map[string]any{"status": "error", "errorType": kind, "error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
