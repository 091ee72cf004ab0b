package history

import (
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/store"
)

// day is a time on a November 2026 day, UTC.
func day(d, hour, minute int) time.Time { return time.Date(2026, 11, d, hour, minute, 0, 0, time.UTC) }

// fixture builds records the way the rollout engine writes them.
type fixture struct {
	rec Records
}

func newFixture() *fixture {
	return &fixture{rec: Records{Stages: map[int64][]store.Stage{}, Audit: map[int64][]store.AuditEntry{}}}
}

// rollout adds a rollout row started at from by its StartedBy, with a
// rollout.started entry.
func (f *fixture) rollout(r store.Rollout, from time.Time) store.Rollout {
	r.CreatedAt, r.UpdatedAt = from, from
	if r.Repo == "" {
		r.Repo = "octo/models"
	}
	if r.State == "" {
		r.State = store.RolloutRunning
	}
	f.rec.Rollouts = append(f.rec.Rollouts, r)
	f.audit(r, from, store.ActionRolloutStarted, r.StartedBy, "accepted", "")
	return r
}

// stage records that stage idx of r deployed at traffic: its row and its
// rollout.stage entry.
func (f *fixture) stage(r store.Rollout, idx, traffic int, state string, at time.Time) {
	dep := r.ID*100 + int64(idx)
	f.rec.Stages[r.ID] = append(f.rec.Stages[r.ID], store.Stage{RolloutID: r.ID, Index: idx, TrafficPercent: traffic,
		DeploymentID: dep, State: state, StartedAt: at})
	e := f.audit(r, at, store.ActionRolloutStage, "modelgate", "done", "")
	e.Details = fmt.Appendf(nil, `{"rollout_id":%d,"stage":%d,"traffic_percent":%d,"deployment_id":%d}`, r.ID, idx, traffic, dep)
}

// end finishes r in state at, decided by actor for reason.
func (f *fixture) end(r store.Rollout, state string, at time.Time, actor, reason string) {
	for i := range f.rec.Rollouts {
		if f.rec.Rollouts[i].ID == r.ID {
			f.rec.Rollouts[i].State, f.rec.Rollouts[i].UpdatedAt = state, at
		}
	}
	f.audit(r, at, "rollout."+state, actor, "done", reason)
}

func (f *fixture) audit(r store.Rollout, at time.Time, action, actor, decision, reason string) *store.AuditEntry {
	list := append(f.rec.Audit[r.ID], store.AuditEntry{At: at, Actor: actor, Action: action, Repo: r.Repo, PR: r.PR,
		Model: r.Model, Environment: r.Environment, Decision: decision, Reason: reason, RolloutID: r.ID})
	f.rec.Audit[r.ID] = list
	return &list[len(list)-1]
}

const judgeFail = "latency_p99_ms +31.0 % [+22.1 %, +40.3 %], fail, p=0.0001 (99 % at look 2 of 3)"

// fraud is a model's life in two environments, and another model paused.
func fraud() Records {
	f := newFixture()
	r1 := f.rollout(store.Rollout{ID: 1, PR: 9, Model: "fraud", Version: "3.1.0", BaselineVersion: "3.0.0",
		Environment: "production", HeadSHA: "aaa111", StartedBy: "alice"}, day(20, 9, 0))
	f.stage(r1, 0, 5, "passed", day(20, 9, 5))
	f.stage(r1, 1, 25, "passed", day(20, 10, 0))
	f.stage(r1, 2, 100, "passed", day(20, 11, 0))
	f.end(r1, "promoted", day(20, 12, 0), "modelgate", "all 3 metrics pass at 100 %")

	r2 := f.rollout(store.Rollout{ID: 2, PR: 12, Model: "fraud", Version: "3.2.0", BaselineVersion: "3.1.0",
		Environment: "production", HeadSHA: "bbb222", StartedBy: "bob"}, day(22, 10, 0))
	f.stage(r2, 0, 5, "failed", day(22, 10, 5))
	f.end(r2, "rolled_back", day(22, 10, 40), "modelgate", judgeFail)

	r3 := f.rollout(store.Rollout{ID: 3, PR: 12, Model: "fraud", Version: "3.2.0", BaselineVersion: "3.1.0",
		Environment: "staging", HeadSHA: "bbb222", StartedBy: "bob"}, day(22, 11, 0))
	f.stage(r3, 0, 50, store.StageAnalyzing, day(22, 11, 5))
	f.end(r3, "aborted", day(22, 11, 30), "erin", "wrong baseline")

	r4 := f.rollout(store.Rollout{ID: 4, PR: 13, Model: "fraud", Version: "3.2.1", BaselineVersion: "3.1.0",
		Environment: "production", HeadSHA: "ccc333", StartedBy: "bob"}, day(23, 9, 0))
	f.stage(r4, 0, 5, "passed", day(23, 9, 5))
	f.stage(r4, 1, 50, "passed", day(23, 11, 0))
	f.audit(r4, day(23, 12, 0), store.ActionRolloutPaused, "carol", "accepted", "waiting for the manual gate")
	f.audit(r4, day(23, 14, 55), store.ActionRolloutResumed, "carol", "accepted", "")
	f.end(r4, "promoted", day(23, 15, 0), "carol", "manual gate passed")

	r5 := f.rollout(store.Rollout{ID: 5, PR: 14, Model: "fraud", Version: "3.3.0", BaselineVersion: "3.2.1",
		Environment: "production", HeadSHA: "ddd444", StartedBy: "dave", Stage: 1, TrafficPercent: 25}, day(25, 11, 0))
	f.stage(r5, 0, 5, "passed", day(25, 11, 5))
	f.stage(r5, 1, 25, store.StageAnalyzing, day(25, 11, 45))

	r6 := f.rollout(store.Rollout{ID: 6, PR: 15, Model: "churn", Version: "1.4.0", BaselineVersion: "1.3.2",
		Environment: "production", HeadSHA: "eee555", StartedBy: "frank", State: "paused", TrafficPercent: 5}, day(25, 8, 0))
	f.stage(r6, 0, 5, store.StageAnalyzing, day(25, 8, 5))
	f.audit(r6, day(25, 9, 0), store.ActionRolloutPaused, "frank", "accepted", "on call is busy")
	return f.rec
}

var asOf = day(25, 12, 0)
