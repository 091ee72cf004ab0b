package live

import (
	"encoding/json"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/modelgate/modelgate/pkg/rollout"
)

// FuzzReadDeployment feeds readDeployment payloads as anyone who may
// create deployments could write them: it must not panic, and what it
// keeps must name a model, a version, a stage and a rollout, and a share of
// the traffic between 0 and 100 %.
func FuzzReadDeployment(f *testing.F) {
	f.Add(rollout.TaskCanary, `{"model":"fraud","version":"1.0.0","baseline_version":"0.9.0","stage":1,"traffic_percent":5,"rollout_id":3}`)
	f.Add(rollout.TaskPromote, `"{\"model\":\"fraud\",\"version\":\"1.0.0\",\"stage\":2,\"rollout_id\":3}"`)
	f.Add(rollout.TaskRollback, `{"model":"","version":"1.0.0","stage":1,"rollout_id":3}`)
	f.Add("deploy", `{}`)
	f.Add(rollout.TaskCanary, `"deploy everything"`)
	f.Add(rollout.TaskCanary, `{"stage":1e400}`)
	f.Add(rollout.TaskCanary, `null`)
	f.Add(rollout.TaskCanary, `{"model":"fraud","version":"1.0.0","stage":1,"traffic_percent":-5,"rollout_id":3}`)
	f.Fuzz(func(t *testing.T, task, raw string) {
		d, ok := readDeployment(&github.Deployment{Task: &task, Payload: json.RawMessage(raw)})
		if !ok {
			return
		}
		if d.payload.Model == "" || d.payload.Version == "" || d.payload.Stage <= 0 || d.payload.RolloutID <= 0 ||
			d.payload.TrafficPercent < 0 || d.payload.TrafficPercent > 100 {
			t.Fatalf("kept an incomplete payload %+v from %q", d.payload, raw)
		}
		if d.task != rollout.TaskCanary && d.task != rollout.TaskPromote && d.task != rollout.TaskRollback {
			t.Fatalf("kept task %q", d.task)
		}
	})
}
