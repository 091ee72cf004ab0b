package chatops

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/hostile"
	"github.com/modelgate/modelgate/pkg/store"
)

// Every reply the service writes holds PR text inert: the quoted command,
// refusals, the policies' reasons, the names of the models, /status with
// its history table.
func TestHostileTextStaysInertInReplies(t *testing.T) {
	oneLine := strings.ReplaceAll(hostile.Text, `"`, "")
	tests := []struct {
		name  string
		body  string
		setup func(t *testing.T, st *store.SQLite, fake *memGitHub, pol *fakePolicy)
	}{
		{"a usage error quoting the command", "/rollback fraud \"" + oneLine, nil},
		{"an unknown command", "/deploy " + oneLine, nil},
		{"the policies' reasons", "/promote", func(_ *testing.T, _ *store.SQLite, _ *memGitHub, pol *fakePolicy) {
			pol.reasons = []string{hostile.Lines, hostile.Text}
		}},
		{"the names of the models a PR changes", "/promote", func(_ *testing.T, _ *store.SQLite, fake *memGitHub, _ *fakePolicy) {
			fake.files["models/a/model.yaml"] = strings.Replace(manifestYAML, "name: fraud", "name: '"+strings.ReplaceAll(oneLine, "'", "")+"'", 1)
		}},
		{"/status with its history", "/status", func(t *testing.T, st *store.SQLite, _ *memGitHub, _ *fakePolicy) {
			ctx := context.Background()
			for _, state := range []store.RolloutState{store.RolloutPromoted, store.RolloutPaused} {
				ro, err := st.CreateRollout(ctx, store.Rollout{Repo: "octo/models", PR: 7, Model: "fraud " + hostile.Lines,
					Version: hostile.Lines, Environment: hostile.Text, State: store.RolloutRunning, StartedBy: hostile.Text})
				require.NoError(t, err)
				ro.State = state
				_, err = st.UpdateRollout(ctx, ro)
				require.NoError(t, err)
				_, err = st.AppendAudit(ctx, store.AuditEntry{At: time.Now(), Actor: hostile.Text, Action: store.ActionRolloutPaused,
					Repo: ro.Repo, PR: 7, Model: ro.Model, Environment: ro.Environment, Decision: store.DecisionDone,
					Reason: hostile.Lines, RolloutID: ro.ID})
				require.NoError(t, err)
			}
			_, err := st.LockEnvironment(ctx, store.Lock{Repo: "octo/models", Environment: hostile.Text, Reason: hostile.Lines,
				LockedBy: hostile.Text, LockedAt: time.Now()})
			require.NoError(t, err)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, st, pol := newService(t)
			fake := newGitHub()
			if tt.setup != nil {
				tt.setup(t, st, fake, pol)
			}
			require.NoError(t, svc.HandleComment(context.Background(), fake, event("d", "alice", tt.body)))
			require.Len(t, fake.comments, 1)
			require.True(t, hostile.Shown(fake.comments[0]), "the reply shows the text:\n%s", fake.comments[0])
			hostile.AssertInert(t, fake.comments[0], 1) // the reply's own marker
		})
	}
}
