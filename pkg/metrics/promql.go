package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// The PromQL of a plan is read with Prometheus's own parser, so that what
// the bot believes about a query (its ranges, whether it is a plain
// selector) is what Prometheus will run.

// placeholder values render a template for a check that does not query.
const (
	checkModel   = "model"
	checkVersion = "0.0.0"
)

func parsePromQL(query string) (parser.Expr, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	return expr, nil
}

// LongestRange returns the longest range a query template reads at one
// instant: its longest range selector ([1m]) or subquery range, 0 for an
// instant query of gauges. Samples of the query at a step shorter than
// that overlap: each shares most of its input with the previous one.
func LongestRange(template string) (time.Duration, error) {
	query, err := Render(template, checkModel, checkVersion)
	if err != nil {
		return 0, err
	}
	expr, err := parsePromQL(query)
	if err != nil {
		return 0, err
	}
	var longest time.Duration
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.MatrixSelector:
			longest = max(longest, n.Range)
		case *parser.SubqueryExpr:
			longest = max(longest, n.Range)
		}
		return nil
	})
	return longest, nil
}

// CheckSelector checks that a counter or histogram template is a plain
// series selector, such as model_requests_total{model="{{.Model}}"}: the
// engine reads it at the ends of the slices, and anything else (a range, a
// function, an offset) would not be a count of requests.
func CheckSelector(template string) error {
	query, err := Render(template, checkModel, checkVersion)
	if err != nil {
		return err
	}
	_, err = selector(query)
	return err
}

// selector parses query as a plain series selector.
func selector(query string) (*parser.VectorSelector, error) {
	expr, err := parsePromQL(query)
	if err != nil {
		return nil, err
	}
	vs, ok := expr.(*parser.VectorSelector)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %s is a %s, want a series selector such as name{label=\"value\"}: the counts are read from the counters themselves",
			ErrBadQuery, query, describe(expr))
	case vs.Name == "":
		return nil, fmt.Errorf("%w: %s has no metric name", ErrBadQuery, query)
	case vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0:
		return nil, fmt.Errorf("%w: %s has an offset or @ modifier: the window's times are the engine's", ErrBadQuery, query)
	}
	return vs, nil
}

func describe(expr parser.Expr) string {
	switch e := expr.(type) {
	case *parser.MatrixSelector:
		return "range selector"
	case *parser.Call:
		return "call of " + e.Func.Name + "()"
	case *parser.AggregateExpr:
		return "aggregation"
	case *parser.BinaryExpr:
		return "binary expression"
	}
	return "expression"
}

// bucketSelector turns a histogram's selector into its _bucket series'.
func bucketSelector(query string) (string, error) {
	vs, err := selector(query)
	if err != nil {
		return "", err
	}
	name := vs.Name + "_bucket"
	matchers := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, name)}
	for _, m := range vs.LabelMatchers {
		switch {
		case m.Name == labels.MetricName:
			continue
		case m.Name == "le":
			return "", fmt.Errorf("%w: %s selects on le: the engine reads every bucket", ErrBadQuery, query)
		}
		matchers = append(matchers, m)
	}
	out := &parser.VectorSelector{Name: name, LabelMatchers: matchers}
	return out.String(), nil
}
