package rollout

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// FuzzParsePlan feeds arbitrary decoded maps, as a manifest (JSON numbers)
// over repository defaults (YAML numbers): ParsePlan never panics, and a
// plan it accepts keeps the rules it checks.
func FuzzParsePlan(f *testing.F) {
	f.Add([]byte(designPlan), []byte(""))
	f.Add([]byte(`{"stages": [{"traffic": 100}]}`), []byte("analysis: {interval: 1s}"))
	f.Add([]byte(`{"analysis": {"metrics": [{"name": "m", "query": "q", "tolerance": 1e308}]}}`),
		[]byte("stages: [{traffic: 1, analysis: 1s}, {traffic: 100}]"))
	f.Add([]byte(`{"stages": [{"traffic": 5, "analysis": "2562047h"}, {"traffic": 100}]}`), []byte("rollout: [1]"))
	f.Add([]byte(`{"analysis": {"metrics": [{"name": "m", "kind": "histogram", "histogram": "h", "quantile": 0.5, "query": "q"}]}}`),
		[]byte("stages: [{traffic: 1, analysis: 1s}, {traffic: 100}]\nanalysis: {interval: 1s}"))
	f.Fuzz(func(t *testing.T, manifest, defaults []byte) {
		dec := json.NewDecoder(bytes.NewReader(manifest))
		dec.UseNumber()
		var raw map[string]any
		if dec.Decode(&raw) != nil {
			raw = nil
		}
		var def map[string]any
		if yaml.Unmarshal(defaults, &def) != nil {
			def = nil
		}
		p, err := ParsePlan(raw, def)
		if err != nil {
			return
		}
		checkPlan(t, p)
	})
}

func checkPlan(t *testing.T, p Plan) {
	last := len(p.Stages) - 1
	if last < 0 || p.Stages[last].Traffic != 100 || p.Analysis.Interval <= 0 {
		t.Fatalf("accepted a bad plan: %+v", p)
	}
	for i, st := range p.Stages {
		if st.Traffic <= 0 || (i > 0 && st.Traffic <= p.Stages[i-1].Traffic) {
			t.Fatalf("stage %d: accepted traffic %g", i, st.Traffic)
		}
		if st.Analysis > 0 && (st.Analysis < p.Analysis.Interval || len(p.Analysis.Metrics) == 0 || p.Looks(i) < 1) {
			t.Fatalf("stage %d: accepted analysis %s over %s with %d metrics", i, st.Analysis, p.Analysis.Interval, len(p.Analysis.Metrics))
		}
		if st.Analysis == 0 && i != last {
			t.Fatalf("stage %d: accepted no analysis", i)
		}
	}
	for i, m := range p.Analysis.Metrics {
		ok := m.Tolerance > 0
		switch m.Kind {
		case KindQuery:
			ok = ok && m.Query != "" && m.Errors == "" && m.Total == "" && m.Histogram == "" && m.Quantile == 0
		case KindRatio:
			ok = ok && m.Query == "" && m.Errors != "" && m.Total != "" && m.Histogram == "" && m.Quantile == 0
		case KindHistogram:
			ok = ok && m.Query == "" && m.Errors == "" && m.Total == "" && m.Histogram != "" && m.Quantile > 0 && m.Quantile < 1
		default:
			ok = false
		}
		if !ok {
			t.Fatalf("metric %d: accepted %+v", i, m)
		}
	}
}

// FuzzNext feeds random sequences of events to the design's plan: Next
// never panics, a refused event changes nothing, an ended rollout stays
// ended, and every rollback goes to the baseline.
func FuzzNext(f *testing.F) {
	f.Add([]byte{0, 2, 2, 0, 2, 2, 0, 2, 2, 4, 0})
	f.Add([]byte{0, 3, 7, 8, 9, 9, 9, 5})
	plan, err := ParsePlan(fromJSON(f, designPlan), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		s, _, err := Start(plan, "2.0.0", "")
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range script {
			ev := fuzzEvent(b, s.Look)
			next, actions, err := Next(plan, s, ev, t0.Add(time.Duration(i)*time.Minute))
			switch {
			case err != nil && (next != s || actions != nil):
				t.Fatalf("refused %T changed the state or acted", ev)
			case s.Terminal() && err == nil:
				t.Fatalf("%T accepted after %s", ev, s.Phase)
			}
			for _, a := range actions {
				if d, ok := a.(CreateDeployment); ok && d.Task == TaskRollback && d.Version != "3.1.0" {
					t.Fatalf("rollback to %q", d.Version)
				}
			}
			s = next
		}
	})
}

// fuzzEvent maps a byte to an event; analysis events mostly answer the
// awaited look.
func fuzzEvent(b byte, look int) Event {
	if b&0x80 != 0 {
		look += int(b>>4&7) - 3
	}
	decisions := []string{DecisionPass, DecisionFail, DecisionInconclusive}
	switch b & 0xf {
	case 0:
		return DeploymentSucceeded{}
	case 1:
		return DeploymentFailed{Reason: "x"}
	case 2, 10, 11:
		return AnalysisResult{Decision: decisions[b%3], Look: look, Critical: b&0x40 != 0}
	case 3:
		return AnalysisUnavailable{Look: look}
	case 4, 12:
		return Promote{}
	case 5:
		return Rollback{}
	case 6:
		return Abort{}
	case 7, 13:
		return Pause{}
	case 8, 14:
		return Resume{}
	case 9:
		return TrafficMismatch{Look: look, Reason: "canary share 0 %"}
	}
	return AnalysisResult{Decision: DecisionPass, Look: look}
}
