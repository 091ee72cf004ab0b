package history

import (
	"testing"

	"github.com/stretchr/testify/require"

	pr "github.com/modelgate/modelgate/internal/hostile"
	"github.com/modelgate/modelgate/pkg/store"
)

// The history tables hold PR text inert: model, version, environment and
// baseline names, logins, and the reasons of the audit entries.
func TestHostileTextStaysInertInTables(t *testing.T) {
	f := newFixture()
	r := f.rollout(store.Rollout{ID: 1, PR: 9, Model: "fraud " + pr.Lines, Version: pr.Lines,
		BaselineVersion: pr.Lines, Environment: pr.Text, HeadSHA: pr.Text, StartedBy: pr.Text}, day(20, 9, 0))
	f.stage(r, 0, 5, store.StagePassed, day(20, 9, 5))
	f.end(r, store.RolloutPromoted, day(20, 12, 0), pr.Text, pr.Lines)
	p := f.rollout(store.Rollout{ID: 2, PR: 10, Model: "fraud " + pr.Lines, Version: "2 " + pr.Lines,
		BaselineVersion: pr.Lines, Environment: pr.Text, StartedBy: pr.Text, State: store.RolloutPaused}, day(21, 9, 0))
	f.audit(p, day(21, 10, 0), store.ActionRolloutPaused, pr.Text, store.DecisionAccepted, pr.Lines)
	h := Build(f.rec, Options{Now: day(25, 12, 0)})
	tests := map[string]string{
		"the history":         Markdown(h),
		"the /status summary": Summary(h, 2),
	}
	for name, md := range tests {
		t.Run(name, func(t *testing.T) {
			require.True(t, pr.Shown(md), md)
			pr.AssertInert(t, md, 0)
		})
	}
}
