package rolloutcomment

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSummary(t *testing.T) {
	deploying := base()
	deploying.Phase = "deploying"
	noAnalysis := rolledBack()
	noAnalysis.Analysis = nil
	tests := []struct {
		name string
		v    View
		want string
	}{
		{"rolled back", rolledBack(), "fraud-scorer 2.1.0 rolled back at stage 2 of 4 (25 %): latency_p99_ms +12.3 % " +
			"[+8.1 %, +16.4 %], beyond its tolerance of 5 % (p = 0.0012, 99 % confidence)."},
		{"rolled back by hand", noAnalysis, "fraud-scorer 2.1.0 rolled back at stage 2 of 4 (25 %): " +
			"latency_p99_ms failed: +12.3 % beyond its tolerance of 5 %."},
		{"promoted", promoted(), "fraud-scorer 2.1.0 promoted to 100 % in production."},
		{"waiting", waiting(), "fraud-scorer 2.1.0 passed stage 3 of 4 (50 %) and waits for /promote."},
		{"analysing", analysing(), "fraud-scorer 2.1.0 is being analysed at stage 2 of 4 (25 %), look 2 of 6."},
		{"paused", pausedProvider(), "fraud-scorer 2.1.0 paused at stage 2 of 4 (25 %): the metrics provider failed " +
			"3 times in a row (prometheus: connection refused)."},
		{"deploying", deploying, "fraud-scorer 2.1.0 deploying at stage 1 of 4 (5 %)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Summary(tt.v))
		})
	}
}
