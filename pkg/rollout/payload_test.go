package rollout

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadPayload(t *testing.T) {
	good := Payload{Model: "fraud", Version: "1.2.0", BaselineVersion: "1.1.0", Stage: 2, TrafficPercent: 25, RolloutID: 7}
	asObject, _ := json.Marshal(good)
	asString, _ := json.Marshal(string(asObject))
	tests := []struct {
		name string
		raw  string
		ok   bool
	}{
		{"object", string(asObject), true},
		{"JSON string", string(asString), true},
		{"rollback at 0 %", `{"model":"m","version":"1","stage":1,"traffic_percent":0,"rollout_id":1}`, true},
		{"empty", ``, false},
		{"null", `null`, false},
		{"not ours", `{"image":"nginx"}`, false},
		{"no model", `{"version":"1","stage":1,"traffic_percent":5,"rollout_id":1}`, false},
		{"stage 0", `{"model":"m","version":"1","stage":0,"traffic_percent":5,"rollout_id":1}`, false},
		{"no rollout", `{"model":"m","version":"1","stage":1,"traffic_percent":5}`, false},
		{"traffic over 100", `{"model":"m","version":"1","stage":1,"traffic_percent":101,"rollout_id":1}`, false},
		{"negative traffic", `{"model":"m","version":"1","stage":1,"traffic_percent":-1,"rollout_id":1}`, false},
		{"wrong type", `{"model":"m","version":"1","stage":"1","traffic_percent":5,"rollout_id":1}`, false},
		{"string that is not JSON", `"deploy everything"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := ReadPayload(json.RawMessage(tt.raw))
			assert.Equal(t, tt.ok, ok)
			if tt.ok && tt.name != "rollback at 0 %" {
				assert.Equal(t, good, p)
			}
		})
	}
}

func FuzzReadPayload(f *testing.F) {
	f.Add([]byte(`{"model":"m","version":"1","baseline_version":"0","stage":1,"traffic_percent":5,"rollout_id":1}`))
	f.Add([]byte(`"{\"model\":\"m\"}"`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, ok := ReadPayload(raw)
		if !ok {
			return
		}
		if p.Model == "" || p.Version == "" || p.Stage <= 0 || p.RolloutID <= 0 || p.TrafficPercent < 0 || p.TrafficPercent > 100 {
			t.Fatalf("kept an incomplete payload %+v from %q", p, raw)
		}
	})
}
