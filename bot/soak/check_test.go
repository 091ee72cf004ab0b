package soak

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/store"
)

func deployments(stages ...string) []fakegithub.Deployment {
	var out []fakegithub.Deployment
	for _, st := range stages {
		var task string
		var percent float64
		fmt.Sscanf(st, "%s %g", &task, &percent)
		out = append(out, fakegithub.Deployment{Task: task,
			Payload: fmt.Appendf(nil, `{"model":"m01","version":"2.0.0","baseline_version":"1.0.0","stage":1,"traffic_percent":%g,"rollout_id":1}`, percent)})
	}
	return out
}

func TestCheckDeployments(t *testing.T) {
	tests := []struct {
		name      string
		regressed bool
		deps      []fakegithub.Deployment
		violation bool
	}{
		{"healthy, every stage", false, deployments("deploy:canary 10", "deploy:canary 50", "deploy:promote 100"), false},
		{"healthy, a stage twice", false, deployments("deploy:canary 10", "deploy:canary 10", "deploy:canary 50", "deploy:promote 100"), true},
		{"healthy, rolled back", false, deployments("deploy:canary 10", "deploy:rollback 0"), true},
		{"regressed, caught at 10 %", true, deployments("deploy:canary 10", "deploy:rollback 0"), false},
		{"regressed, caught at 50 %", true, deployments("deploy:canary 10", "deploy:canary 50", "deploy:rollback 0"), false},
		{"regressed, promoted", true, deployments("deploy:canary 10", "deploy:canary 50", "deploy:promote 100"), true},
		{"regressed, rolled back after 100 %", true, deployments("deploy:canary 10", "deploy:canary 50", "deploy:promote 100", "deploy:rollback 0"), true},
		{"regressed, rolled back twice", true, deployments("deploy:canary 10", "deploy:rollback 0", "deploy:rollback 0"), true},
		{"regressed, nothing deployed", true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &soak{}
			s.checkDeployments(&launch{pr: 1, model: "m01", regressed: tt.regressed}, store.Rollout{ID: 1}, tt.deps)
			assert.Equal(t, tt.violation, len(s.res.Violations) > 0, "%v", s.res.Violations)
		})
	}
}
