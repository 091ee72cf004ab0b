package rollout

import (
	"bytes"
	"encoding/json"
	"testing"

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
}
