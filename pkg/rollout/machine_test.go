package rollout

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

// testPlan is 5 → 25 → 50 (manual gate) → 100, with two looks per stage.
func testPlan(t testing.TB) Plan {
	p, err := ParsePlan(fromJSON(t, `{"baseline": "1.0.0",
	  "stages": [{"traffic": 5, "analysis": "10m"}, {"traffic": 25, "analysis": "10m"},
	    {"traffic": 50, "analysis": "10m", "gate": "manual"}, {"traffic": 100}],
	  "analysis": {"metrics": [{"name": "errors", "query": "q", "critical": true}]}}`), nil)
	require.NoError(t, err)
	return p
}

// step is one event fed to Next and what must come out.
type step struct {
	ev      Event
	now     int // minutes after t0
	phase   Phase
	actions []Action
}

// run starts a rollout of 2.0.0 and feeds it the steps, checking each.
func run(t *testing.T, plan Plan, steps []step) State {
	t.Helper()
	s, actions, err := Start(plan, "2.0.0", "")
	require.NoError(t, err)
	require.Equal(t, []Action{CreateDeployment{Task: TaskCanary, Stage: 0, TrafficPercent: 5, Version: "2.0.0"}, UpdateComment{}}, actions)
	for i, st := range steps {
		next, actions, err := Next(plan, s, st.ev, at(st.now))
		require.NoError(t, err, "step %d: %T", i, st.ev)
		assert.Equal(t, st.phase, next.Phase, "step %d: %T", i, st.ev)
		assert.Equal(t, st.actions, actions, "step %d: %T", i, st.ev)
		again, againActions, _ := Next(plan, s, st.ev, at(st.now))
		require.Equal(t, next, again, "step %d is not deterministic", i)
		require.Equal(t, actions, againActions, "step %d is not deterministic", i)
		s = next
	}
	return s
}

func pass(look int) AnalysisResult { return AnalysisResult{Decision: DecisionPass, Look: look} }

func inProgress(desc string) SetDeploymentStatus {
	return SetDeploymentStatus{State: StatusInProgress, Description: desc}
}

func TestHappyPath(t *testing.T) {
	s := run(t, testPlan(t), []step{
		{DeploymentSucceeded{}, 1, Analyzing, []Action{
			inProgress("analysing stage 1 (5 %): 2 looks every 5m0s"), ScheduleAnalysis{At: at(6), Look: 1}, UpdateComment{}}},
		{pass(1), 6, Analyzing, []Action{ScheduleAnalysis{At: at(11), Look: 2}, UpdateComment{}}},
		{pass(2), 11, Deploying, []Action{
			CreateDeployment{Task: TaskCanary, Stage: 1, TrafficPercent: 25, Version: "2.0.0"}, UpdateComment{}}},
		{DeploymentSucceeded{}, 12, Analyzing, []Action{
			inProgress("analysing stage 2 (25 %): 2 looks every 5m0s"), ScheduleAnalysis{At: at(17), Look: 1}, UpdateComment{}}},
		{pass(1), 17, Analyzing, []Action{ScheduleAnalysis{At: at(22), Look: 2}, UpdateComment{}}},
		{pass(2), 22, Deploying, []Action{
			CreateDeployment{Task: TaskCanary, Stage: 2, TrafficPercent: 50, Version: "2.0.0"}, UpdateComment{}}},
		{DeploymentSucceeded{}, 23, Analyzing, []Action{
			inProgress("analysing stage 3 (50 %): 2 looks every 5m0s"), ScheduleAnalysis{At: at(28), Look: 1}, UpdateComment{}}},
		{pass(1), 28, Analyzing, []Action{ScheduleAnalysis{At: at(33), Look: 2}, UpdateComment{}}},
		{pass(2), 33, Waiting, []Action{UpdateComment{},
			PostComment{Text: "stage 3 (50 %) is ready: /promote to go on, /rollback to stop."}}},
		{Promote{}, 90, Deploying, []Action{
			CreateDeployment{Task: TaskPromote, Stage: 3, TrafficPercent: 100, Version: "2.0.0"}, UpdateComment{}}},
		{DeploymentSucceeded{}, 91, Promoted, []Action{
			SetDeploymentStatus{State: StatusSuccess, Description: "promoted to 100 %"}, UpdateComment{},
			PostComment{Text: "2.0.0 is promoted to 100 %."}}},
	})
	assert.Equal(t, State{Stage: 3, Phase: Promoted, Version: "2.0.0", Baseline: "1.0.0", Reason: "all 4 stages passed"}, s)
}

// rollbackTo is what every rollback at a stage does.
func rollbackTo(stage int, traffic, reason, verb string) []Action {
	return []Action{
		SetDeploymentStatus{State: StatusFailure, Description: reason},
		CreateDeployment{Task: TaskRollback, Stage: stage, TrafficPercent: 100, Version: "1.0.0"},
		UpdateComment{},
		PostComment{Text: "2.0.0 " + verb + " at stage " + traffic + ": " + reason + "; traffic returns to 1.0.0."},
	}
}

// toStage2 brings the rollout to stage 2 (25 %), analysing look 1.
var toStage2 = []step{
	{DeploymentSucceeded{}, 1, Analyzing, nil},
	{pass(1), 6, Analyzing, nil},
	{pass(2), 11, Deploying, nil},
	{DeploymentSucceeded{}, 12, Analyzing, nil},
}

// prefix runs the steps without checking their actions.
func prefix(t *testing.T, plan Plan, steps []step) State {
	t.Helper()
	s, _, err := Start(plan, "2.0.0", "")
	require.NoError(t, err)
	for i, st := range steps {
		s, _, err = Next(plan, s, st.ev, at(st.now))
		require.NoError(t, err, "step %d", i)
		require.Equal(t, st.phase, s.Phase, "step %d", i)
	}
	return s
}

// play feeds the steps to the machine from s, holding each outcome to
// the step's phase and, when it gives them, its actions.
func play(t *testing.T, plan Plan, s State, steps []step) State {
	t.Helper()
	for i, st := range steps {
		next, actions, err := Next(plan, s, st.ev, at(st.now))
		require.NoError(t, err, "step %d", i)
		assert.Equal(t, st.phase, next.Phase, "step %d", i)
		if st.actions != nil {
			assert.Equal(t, st.actions, actions, "step %d", i)
		}
		s = next
	}
	return s
}

func TestTransitions(t *testing.T) {
	plan := testPlan(t)
	critical := AnalysisResult{Decision: DecisionFail, Look: 1, Critical: true, Reason: "critical metric failed: errors"}
	tests := []struct {
		name  string
		setup []step
		steps []step
	}{
		{"critical failure mid-window rolls back at once", toStage2, []step{
			{critical, 17, RolledBack, rollbackTo(1, "2 (25 %)", "critical metric failed: errors", "rolled back")}}},
		{"non-critical failure mid-window keeps analysing", toStage2, []step{
			{AnalysisResult{Decision: DecisionFail, Look: 1, Reason: "score 50"}, 17, Analyzing,
				[]Action{ScheduleAnalysis{At: at(22), Look: 2}, UpdateComment{}}},
			{AnalysisResult{Decision: DecisionFail, Look: 2, Reason: "score 50"}, 22, RolledBack,
				rollbackTo(1, "2 (25 %)", "score 50", "rolled back")}}},
		{"/rollback mid-stage", toStage2, []step{
			{Rollback{Reason: "users complain"}, 14, RolledBack, rollbackTo(1, "2 (25 %)", "users complain", "rolled back")}}},
		{"/rollback without reason while deploying", toStage2[:3], []step{
			{Rollback{}, 14, RolledBack, rollbackTo(1, "2 (25 %)", "rolled back by /rollback", "rolled back")}}},
		{"/rollback while the first stage deploys", nil, []step{
			{Rollback{}, 0, RolledBack, rollbackTo(0, "1 (5 %)", "rolled back by /rollback", "rolled back")}}},
		{"/abort", toStage2, []step{
			{Abort{}, 14, Aborted, rollbackTo(1, "2 (25 %)", "aborted by /abort", "aborted")}}},
		{"deployment failure", toStage2[:3], []step{
			{DeploymentFailed{Reason: "helm timed out"}, 14, Failed, []Action{
				CreateDeployment{Task: TaskRollback, Stage: 1, TrafficPercent: 100, Version: "1.0.0"}, UpdateComment{},
				PostComment{Text: "the deployment of stage 2 (25 %) failed: helm timed out; traffic returns to 1.0.0."}}}}},
		{"pause and resume restart the window", toStage2, []step{
			{Pause{}, 14, Paused, []Action{UpdateComment{}}},
			{Resume{}, 30, Analyzing, []Action{
				inProgress("analysing stage 2 (25 %): 2 looks every 5m0s"), ScheduleAnalysis{At: at(35), Look: 1}, UpdateComment{}}}}},
		{"pause while deploying, success arrives, resume analyses", toStage2[:3], []step{
			{Pause{}, 11, Paused, []Action{UpdateComment{}}},
			{DeploymentSucceeded{}, 12, Paused, []Action{UpdateComment{}}},
			{Resume{}, 20, Analyzing, []Action{
				inProgress("analysing stage 2 (25 %): 2 looks every 5m0s"), ScheduleAnalysis{At: at(25), Look: 1}, UpdateComment{}}}}},
		{"pause while deploying, resume keeps deploying", toStage2[:3], []step{
			{Pause{}, 11, Paused, []Action{UpdateComment{}}},
			{Resume{}, 12, Deploying, []Action{UpdateComment{}}}}},
		{"deployment fails while paused", toStage2[:3], []step{
			{Pause{}, 11, Paused, []Action{UpdateComment{}}},
			{DeploymentFailed{}, 12, Failed, []Action{
				CreateDeployment{Task: TaskRollback, Stage: 1, TrafficPercent: 100, Version: "1.0.0"}, UpdateComment{},
				PostComment{Text: "the deployment of stage 2 (25 %) failed: no reason given; traffic returns to 1.0.0."}}}}},
		{"provider down 3 times pauses", toStage2, []step{
			{AnalysisUnavailable{Look: 1, Reason: "connection refused"}, 17, Analyzing,
				[]Action{ScheduleAnalysis{At: at(22), Look: 1}, UpdateComment{}}},
			{AnalysisUnavailable{Look: 1, Reason: "connection refused"}, 22, Analyzing,
				[]Action{ScheduleAnalysis{At: at(27), Look: 1}, UpdateComment{}}},
			{AnalysisUnavailable{Look: 1, Reason: "connection refused"}, 27, Paused, []Action{UpdateComment{},
				PostComment{Text: "the metrics provider failed 3 times in a row (connection refused); paused until it answers again, " +
					"when the stage's analysis restarts on its own: /resume to restart it now, /promote to go on, /rollback to stop."},
				ScheduleAnalysis{At: at(32), Look: 1}}}}},
		{"a traffic mismatch pauses with its reason, /resume restarts the window", toStage2, []step{
			{AnalysisUnavailable{Look: 1}, 17, Analyzing, nil},
			{TrafficMismatch{Look: 1, Reason: "the canary served 0.0 % of the requests, the stage puts 25 % on it"}, 22, Paused, []Action{UpdateComment{},
				PostComment{Text: "the traffic of stage 2 (25 %) is not where the plan puts it (the canary served 0.0 % of the requests, " +
					"the stage puts 25 % on it); paused: /resume to analyse the stage again, /promote to go on, /rollback to stop."}}},
			{Resume{}, 30, Analyzing, []Action{
				inProgress("analysing stage 2 (25 %): 2 looks every 5m0s"), ScheduleAnalysis{At: at(35), Look: 1}, UpdateComment{}}}}},
		{"a result resets the provider's failures", toStage2, []step{
			{AnalysisUnavailable{Look: 1}, 17, Analyzing, nil},
			{AnalysisUnavailable{Look: 1}, 22, Analyzing, nil},
			{pass(1), 27, Analyzing, nil},
			{AnalysisUnavailable{Look: 2}, 32, Analyzing, nil},
			{AnalysisUnavailable{Look: 2}, 37, Analyzing, []Action{ScheduleAnalysis{At: at(42), Look: 2}, UpdateComment{}}}}},
		{"inconclusive at the window's end extends once, then pauses", toStage2, []step{
			{AnalysisResult{Decision: DecisionInconclusive, Look: 1}, 17, Analyzing, nil},
			{AnalysisResult{Decision: DecisionInconclusive, Look: 2, Reason: "no metric has data"}, 22, Analyzing, []Action{
				ScheduleAnalysis{At: at(27), Look: 3}, UpdateComment{},
				PostComment{Text: "stage 2 (25 %) is inconclusive after 2 looks (no metric has data): the window is extended by 5m0s."}}},
			{AnalysisResult{Decision: DecisionInconclusive, Look: 3, Reason: "no metric has data"}, 27, Paused, []Action{UpdateComment{},
				PostComment{Text: "stage 2 (25 %) is still inconclusive after 3 looks (no metric has data); paused: " +
					"/resume to analyse the stage again, /promote to go on, /rollback to stop."}}},
			{Promote{}, 40, Deploying, []Action{
				CreateDeployment{Task: TaskCanary, Stage: 2, TrafficPercent: 50, Version: "2.0.0"}, UpdateComment{}}}}},
		{"inconclusive then pass in the extension advances", toStage2, []step{
			{pass(1), 17, Analyzing, nil},
			{AnalysisResult{Decision: DecisionInconclusive, Look: 2}, 22, Analyzing, nil},
			{pass(3), 27, Deploying, nil}}},
		{"a failure in the extension rolls back", toStage2, []step{
			{pass(1), 17, Analyzing, nil},
			{AnalysisResult{Decision: DecisionInconclusive, Look: 2}, 22, Analyzing, nil},
			{AnalysisResult{Decision: DecisionFail, Look: 3}, 27, RolledBack,
				rollbackTo(1, "2 (25 %)", "the analysis failed", "rolled back")}}},
		{"/pause while waiting, /resume waits again", append(toStage2[:3:3],
			step{DeploymentSucceeded{}, 12, Analyzing, nil}, step{pass(1), 17, Analyzing, nil}, step{pass(2), 22, Deploying, nil},
			step{DeploymentSucceeded{}, 23, Analyzing, nil}, step{pass(1), 28, Analyzing, nil}, step{pass(2), 33, Waiting, nil}), []step{
			{Pause{}, 40, Paused, []Action{UpdateComment{}}},
			{Resume{}, 41, Waiting, []Action{UpdateComment{}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			play(t, plan, prefix(t, plan, tt.setup), tt.steps)
		})
	}
}

// outage brings stage 2 (25 %) to a pause for three failed looks.
var outage = append(toStage2[:4:4],
	step{AnalysisUnavailable{Look: 1}, 17, Analyzing, nil},
	step{AnalysisUnavailable{Look: 1}, 22, Analyzing, nil},
	step{AnalysisUnavailable{Look: 1, Reason: "connection refused"}, 27, Paused, nil})

// restarted is what the first answer after an outage at minute now does.
func restarted(now int) []Action {
	return []Action{inProgress("analysing stage 2 (25 %): 2 looks every 5m0s"), ScheduleAnalysis{At: at(now + 5), Look: 1}, UpdateComment{},
		PostComment{Text: "the metrics provider answers again: the analysis of stage 2 (25 %) restarts on its own, 2 looks every 5m0s."}}
}

// Looks that fail because the provider is down, then find no data once it
// answers again (it has not scraped yet), are an outage that ends on its
// own, not a pause for a person (found by the soak).
func TestAnOutageThatEndsWithoutDataIsAnOutage(t *testing.T) {
	plan := testPlan(t)
	play(t, plan, prefix(t, plan, toStage2[:4:4]), []step{
		{AnalysisUnavailable{Look: 1, Reason: "connection refused"}, 17, Analyzing, nil},
		{AnalysisUnavailable{Look: 1, NoData: true}, 22, Analyzing, nil},
		{AnalysisUnavailable{Look: 1, NoData: true, Reason: "no data"}, 27, Paused, []Action{UpdateComment{},
			PostComment{Text: "the metrics provider failed 3 times in a row (no data); paused until it answers again, " +
				"when the stage's analysis restarts on its own: /resume to restart it now, /promote to go on, /rollback to stop."},
			ScheduleAnalysis{At: at(32), Look: 1}}},
		{AnalysisUnavailable{Look: 1, NoData: true}, 32, Analyzing, restarted(32)}})
}

func TestOutageEndsOnItsOwn(t *testing.T) {
	plan := testPlan(t)
	tests := []struct {
		name  string
		steps []step
	}{
		{"a probe that fails keeps the pause and probes again, quietly", []step{
			{AnalysisUnavailable{Look: 1, Reason: "connection refused"}, 32, Paused, []Action{ScheduleAnalysis{At: at(37), Look: 1}}},
			{AnalysisUnavailable{Look: 1, Reason: "connection refused"}, 37, Paused, []Action{ScheduleAnalysis{At: at(42), Look: 1}}}}},
		{"the first answer restarts the window with a note, whatever it judged", []step{
			{AnalysisUnavailable{Look: 1}, 32, Paused, nil},
			{AnalysisResult{Decision: DecisionFail, Critical: true, Look: 1}, 37, Analyzing, restarted(37)},
			{pass(1), 42, Analyzing, []Action{ScheduleAnalysis{At: at(47), Look: 2}, UpdateComment{}}},
			{pass(2), 47, Deploying, nil}}},
		{"an answer without enough samples is an answer", []step{
			{AnalysisUnavailable{Look: 1, NoData: true, Reason: "no data"}, 32, Analyzing, restarted(32)}}},
		{"first looks after the restart finding too few samples move the window on, up to the limit, then count", []step{
			{pass(1), 32, Analyzing, restarted(32)},
			{AnalysisUnavailable{Look: 1, NoData: true}, 37, Analyzing, []Action{ScheduleAnalysis{At: at(42), Look: 1}, UpdateComment{}}},
			{AnalysisUnavailable{Look: 1, NoData: true}, 42, Analyzing, []Action{ScheduleAnalysis{At: at(47), Look: 1}, UpdateComment{}}},
			{AnalysisUnavailable{Look: 1, NoData: true}, 47, Analyzing, nil},
			{AnalysisUnavailable{Look: 1, NoData: true}, 52, Analyzing, nil},
			{AnalysisUnavailable{Look: 1, NoData: true}, 57, Analyzing, nil},
			{AnalysisUnavailable{Look: 1, NoData: true, Reason: "no data"}, 62, Paused, nil}}},
		{"a provider error on the first look after the restart counts", []step{
			{pass(1), 32, Analyzing, nil},
			{AnalysisUnavailable{Look: 1}, 37, Analyzing, nil},
			{AnalysisUnavailable{Look: 1}, 42, Analyzing, nil},
			{AnalysisUnavailable{Look: 1}, 47, Paused, nil}}},
		{"/resume during the outage restarts the window at once", []step{
			{Resume{}, 30, Analyzing, []Action{
				inProgress("analysing stage 2 (25 %): 2 looks every 5m0s"), ScheduleAnalysis{At: at(35), Look: 1}, UpdateComment{}}},
			{AnalysisUnavailable{Look: 1, NoData: true}, 35, Analyzing, []Action{ScheduleAnalysis{At: at(40), Look: 1}, UpdateComment{}}}}},
		{"/rollback during the outage ends it", []step{
			{Rollback{Reason: "enough"}, 30, RolledBack, rollbackTo(1, "2 (25 %)", "enough", "rolled back")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := prefix(t, plan, outage)
			require.True(t, s.Outage)
			s = play(t, plan, s, tt.steps)
			if s.Terminal() {
				assert.False(t, s.Outage || s.Recovering, "an ended rollout keeps no outage")
			}
		})
	}
}

// A first look short of samples, after an outage's restart or not, reads
// a window that starts when it was judged, as the provider has only begun
// to collect: read again from the old start it would find the same gap.
// After the restart such looks count only once the limit's number of them
// have moved the window on.
func TestFirstLooksWithoutDataMoveTheWindow(t *testing.T) {
	plan := testPlan(t)
	tests := []struct {
		name       string
		setup      []step
		recovering []bool
	}{
		{"after an outage", append(outage, step{pass(1), 32, Analyzing, nil}), []bool{true, true, false, false, false}},
		{"without one", toStage2[:4:4], []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := prefix(t, plan, tt.setup)
			now := tt.setup[len(tt.setup)-1].now
			for i, want := range tt.recovering {
				now += 5
				var err error
				s, _, err = Next(plan, s, AnalysisUnavailable{Look: 1, NoData: true}, at(now))
				require.NoError(t, err, "look %d", i)
				require.Equal(t, Analyzing, s.Phase, "look %d", i)
				assert.Equal(t, at(now), s.Since, "look %d", i)
				assert.Equal(t, want, s.Recovering, "look %d", i)
			}
		})
	}
}

// A provider that answers without data is no outage: the pause is for a
// person, and does not end and begin again on its own.
func TestNoDataPauseIsNoOutage(t *testing.T) {
	plan := testPlan(t)
	s := prefix(t, plan, append(toStage2[:4:4],
		step{AnalysisUnavailable{Look: 1, NoData: true}, 17, Analyzing, nil},
		step{AnalysisUnavailable{Look: 1, NoData: true}, 22, Analyzing, nil}))
	s, actions, err := Next(plan, s, AnalysisUnavailable{Look: 1, NoData: true, Reason: "no data"}, at(27))
	require.NoError(t, err)
	assert.Equal(t, Paused, s.Phase)
	assert.False(t, s.Outage)
	assert.Equal(t, []Action{UpdateComment{}, PostComment{Text: "the metrics provider failed 3 times in a row (no data); paused: " +
		"/resume to analyse the stage again, /promote to go on, /rollback to stop."}}, actions, "no probe")
	_, _, err = Next(plan, s, AnalysisUnavailable{Look: 1, NoData: true}, at(32))
	assert.ErrorIs(t, err, ErrRefused, "no look runs while a person decides")
}

// A look after the first that finds no data at its end (a hole in
// Prometheus's scraping that no failed look saw) restarts the window:
// the same end would read the same hole at every retry (found by the
// soak, whose bot was killed through a Prometheus outage).
func TestAHoleAtALooksEndRestartsTheWindow(t *testing.T) {
	plan := testPlan(t)
	play(t, plan, prefix(t, plan, append(toStage2[:4:4], step{pass(1), 17, Analyzing, nil})), []step{
		{AnalysisUnavailable{Look: 2, NoData: true, Reason: "no series has a value at the end of the window"}, 24, Analyzing, []Action{
			ScheduleAnalysis{At: at(29), Look: 1}, UpdateComment{},
			PostComment{Text: "look 2 of stage 2 (25 %) found no data at its end (no series has a value at the end of the window): " +
				"the stage's analysis restarts, 2 looks every 5m0s."}}},
		{pass(1), 29, Analyzing, nil},
		{pass(2), 34, Deploying, nil}})
}

// The window restarts once a stage for such a hole: a hole that is not
// left behind (a replayed window) is retried as any failed look and ends
// in a pause, instead of restarting the window for ever.
func TestAHoleRestartsTheWindowOnce(t *testing.T) {
	plan := testPlan(t)
	hole := AnalysisUnavailable{Look: 2, NoData: true, Reason: "no data"}
	s := prefix(t, plan, append(toStage2[:4:4], step{pass(1), 17, Analyzing, nil}, step{hole, 22, Analyzing, nil},
		step{pass(1), 27, Analyzing, nil}))
	for i, minute := range []int{32, 37, 42} {
		var err error
		s, _, err = Next(plan, s, hole, at(minute))
		require.NoError(t, err)
		assert.Equal(t, 2, s.Look, "look %d: the same look is retried", i)
	}
	assert.Equal(t, Paused, s.Phase, "the limit of failed looks pauses the stage")
}

func TestOutageGraceIsForTheFirstLookOnly(t *testing.T) {
	plan := testPlan(t)
	plan.Analysis.ConsecutiveErrorLimit = 1
	s := prefix(t, plan, append(toStage2[:4:4], step{AnalysisUnavailable{Look: 1}, 17, Paused, nil}, step{pass(1), 22, Analyzing, nil}))
	s, _, err := Next(plan, s, AnalysisUnavailable{Look: 1, NoData: true}, at(27))
	require.NoError(t, err)
	assert.Equal(t, Analyzing, s.Phase, "a limit of one does not pause the restarted window for its first thin look")
	assert.Equal(t, at(27), s.Since, "the window starts when the thin look was taken")
	s, _, err = Next(plan, s, AnalysisUnavailable{Look: 1, NoData: true}, at(32))
	require.NoError(t, err)
	assert.Equal(t, Paused, s.Phase, "the second thin look counts")
}

func TestRefused(t *testing.T) {
	plan := testPlan(t)
	deploying := toStage2[:3]
	waiting := append(toStage2[:3:3],
		step{DeploymentSucceeded{}, 12, Analyzing, nil}, step{pass(1), 17, Analyzing, nil}, step{pass(2), 22, Deploying, nil},
		step{DeploymentSucceeded{}, 23, Analyzing, nil}, step{pass(1), 28, Analyzing, nil}, step{pass(2), 33, Waiting, nil})
	paused := append(toStage2[:4:4], step{Pause{}, 14, Paused, nil})
	tests := []struct {
		name  string
		setup []step
		ev    Event
		want  string
	}{
		{"/promote while deploying", deploying, Promote{}, "refused: nothing to promote: stage 2 (25 %) is still deploying"},
		{"/promote while analysing", toStage2, Promote{},
			"refused: nothing to promote yet: stage 2 (25 %) is analysing (look 1 of 2) and the judge is not passing it; /pause first to skip the rest of the window"},
		{"/promote while paused deploying", append(deploying[:3:3], step{Pause{}, 11, Paused, nil}), Promote{},
			"refused: nothing to promote: stage 2 (25 %) is paused"},
		{"/resume while analysing", toStage2, Resume{}, "refused: nothing to resume: stage 2 (25 %) is analysing (look 1 of 2)"},
		{"/resume while waiting", waiting, Resume{}, "refused: nothing to resume: stage 3 (50 %) waits for /promote"},
		{"/pause twice", paused, Pause{}, "refused: already paused: stage 2 (25 %) is paused"},
		{"deployment success twice", toStage2, DeploymentSucceeded{},
			"refused: no deployment is pending: stage 2 (25 %) is analysing (look 1 of 2)"},
		{"deployment failure while waiting", waiting, DeploymentFailed{}, "refused: no deployment is pending: stage 3 (50 %) waits for /promote"},
		{"analysis while deploying", deploying, pass(1), "refused: no analysis is running: stage 2 (25 %) is still deploying"},
		{"analysis while paused", paused, pass(1), "refused: no analysis is running: stage 2 (25 %) is paused"},
		{"provider down while waiting", waiting, AnalysisUnavailable{Look: 2}, "refused: no analysis is running: stage 3 (50 %) waits for /promote"},
		{"stale look", toStage2, pass(2), "refused: stale analysis of look 2: look 1 is awaited"},
		{"stale probe", outage, pass(2), "refused: stale analysis of look 2: look 1 is awaited as a probe"},
		{"stale failed probe", outage, AnalysisUnavailable{Look: 3}, "refused: stale analysis of look 3: look 1 is awaited as a probe"},
		{"unknown decision", toStage2, AnalysisResult{Decision: "maybe", Look: 1}, `refused: unknown analysis decision "maybe"`},
		{"unknown event", toStage2, nil, "refused: unknown event <nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := prefix(t, plan, tt.setup)
			next, actions, err := Next(plan, s, tt.ev, at(50))
			require.ErrorIs(t, err, ErrRefused)
			assert.EqualError(t, err, tt.want)
			assert.Equal(t, s, next, "a refused event leaves the state as it was")
			assert.Nil(t, actions)
		})
	}
}

func TestTerminalRejectsEverything(t *testing.T) {
	plan := testPlan(t)
	events := []Event{DeploymentSucceeded{}, DeploymentFailed{}, pass(1), AnalysisUnavailable{Look: 1},
		Promote{}, Rollback{}, Abort{}, Pause{}, Resume{}}
	for _, phase := range []Phase{Promoted, RolledBack, Aborted, Failed} {
		s := State{Stage: 1, Phase: phase, Version: "2.0.0", Baseline: "1.0.0"}
		assert.True(t, s.Terminal())
		for _, ev := range events {
			next, actions, err := Next(plan, s, ev, t0)
			require.ErrorIs(t, err, ErrRefused, "%s %T", phase, ev)
			assert.EqualError(t, err, "refused: the rollout has ended: "+string(phase))
			assert.Equal(t, s, next)
			assert.Nil(t, actions)
		}
	}
}

func TestStateOutOfPlan(t *testing.T) {
	_, _, err := Next(testPlan(t), State{Stage: 4, Phase: Analyzing}, Rollback{}, t0)
	assert.EqualError(t, err, "refused: stage 5 is not in the plan of 4 stages")
}

func TestStart(t *testing.T) {
	plan := testPlan(t)
	s, _, err := Start(plan, "2.0.0", "1.5.0")
	require.NoError(t, err)
	assert.Equal(t, State{Phase: Deploying, Version: "2.0.0", Baseline: "1.5.0"}, s, "the given baseline wins")

	noBaseline := plan
	noBaseline.Baseline = ""
	for _, tt := range []struct {
		plan              Plan
		version, baseline string
		want              string
	}{
		{Plan{}, "2.0.0", "1.0.0", "refused: the plan has no stage"},
		{plan, "", "", "refused: no version to roll out"},
		{noBaseline, "2.0.0", "", "refused: no baseline version to compare with"},
	} {
		_, _, err := Start(tt.plan, tt.version, tt.baseline)
		assert.EqualError(t, err, tt.want)
	}
}

func TestSingleStagePlan(t *testing.T) {
	plan, err := ParsePlan(fromJSON(t, `{"baseline": "1.0.0", "stages": [{"traffic": 100}]}`), nil)
	require.NoError(t, err)
	s, actions, err := Start(plan, "2.0.0", "")
	require.NoError(t, err)
	assert.Equal(t, CreateDeployment{Task: TaskPromote, Stage: 0, TrafficPercent: 100, Version: "2.0.0"}, actions[0])
	s, _, err = Next(plan, s, DeploymentSucceeded{}, t0)
	require.NoError(t, err)
	assert.Equal(t, Promoted, s.Phase)
}

func TestPromoteWhileTheJudgePasses(t *testing.T) {
	plan := testPlan(t)
	s := prefix(t, plan, toStage2)
	next, actions, err := Next(plan, s, Promote{Passing: true}, at(13))
	require.NoError(t, err)
	assert.Equal(t, Deploying, next.Phase)
	assert.Equal(t, 2, next.Stage, "the analysing stage is cut short and the next one deploys")
	assert.Equal(t, CreateDeployment{Task: TaskCanary, Stage: 2, TrafficPercent: 50, Version: "2.0.0"}, actions[0])
}
