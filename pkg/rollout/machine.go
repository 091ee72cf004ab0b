package rollout

import (
	"errors"
	"fmt"
	"time"
)

// Phase is where a rollout is within its current stage.
type Phase string

// The phases of a rollout. The last four are terminal.
const (
	// Deploying: the stage's deployment is created; the user's workflow
	// has not reported success yet.
	Deploying Phase = "deploying"
	// Analyzing: the stage's analysis window runs since State.Since.
	Analyzing Phase = "analyzing"
	// Waiting: the stage passed and its manual gate waits for /promote.
	Waiting Phase = "waiting"
	// Paused: by /pause, an unavailable provider or an inconclusive
	// window; State.Resume says where /resume goes back to.
	Paused     Phase = "paused"
	Promoted   Phase = "promoted"
	RolledBack Phase = "rolled_back"
	Aborted    Phase = "aborted"
	Failed     Phase = "failed"
)

// ErrRefused is wrapped by every error of Next: the event does not apply
// to the state, which is left as it was. Its message can be shown as a
// reply to a command.
var ErrRefused = errors.New("refused")

// State is a rollout's position in its plan, as a value to persist.
type State struct {
	// Stage is the index of the current stage in Plan.Stages.
	Stage int
	Phase Phase
	// Version is the canary's version; Baseline the one it is compared
	// with and rolled back to.
	Version, Baseline string
	// Since is when the current analysis window began.
	Since time.Time
	// Look is the look of the window that is scheduled and awaited.
	Look int
	// Extended says the window was extended once for being inconclusive.
	Extended bool
	// Unavailable counts the provider's consecutive failures.
	Unavailable int
	// Outage says the rollout is paused because the metrics provider
	// failed too many looks in a row: the awaited look is still tried
	// every interval, as a probe, and the first answer restarts the
	// stage's window on its own.
	Outage bool
	// Recovering says the window restarted after an outage and its first
	// look is not judged yet: a look that finds too few samples (the
	// provider has only begun to collect again) moves the window on
	// instead of counting as a failure, as many times as the limit of
	// failed looks.
	Recovering bool
	// Down says a failure of the current run of them was the provider's
	// own (it did not answer): when the run reaches the limit with looks
	// that find no data (a restarted Prometheus that has not scraped
	// yet), it is still an outage, which ends on its own, not a pause for
	// a person.
	Down bool
	// Restarted says the stage's window restarted once already for a look
	// that found no data at its end: a second such look is retried, as
	// any failed look, so that a hole that is not left behind (a window
	// replayed, a query that never has data at that length) cannot
	// restart the window for ever.
	Restarted bool
	// Resume is the phase /resume returns to while Paused.
	Resume Phase
	// Reason says why the rollout is paused or has ended.
	Reason string
}

// Terminal says the rollout has ended and accepts no event.
func (s State) Terminal() bool {
	switch s.Phase {
	case Promoted, RolledBack, Aborted, Failed:
		return true
	}
	return false
}

// Start begins a rollout of version: stage 0 is deployed. The baseline
// defaults to the plan's; one of them must be set.
func Start(plan Plan, version, baseline string) (State, []Action, error) {
	if baseline == "" {
		baseline = plan.Baseline
	}
	switch {
	case len(plan.Stages) == 0:
		return State{}, nil, fmt.Errorf("%w: the plan has no stage", ErrRefused)
	case version == "":
		return State{}, nil, fmt.Errorf("%w: no version to roll out", ErrRefused)
	case baseline == "":
		return State{}, nil, fmt.Errorf("%w: no baseline version to compare with", ErrRefused)
	}
	s := State{Phase: Deploying, Version: version, Baseline: baseline}
	return s, []Action{deployment(plan, s), UpdateComment{}}, nil
}

// Next is the transition function: the state after ev at time now and the
// actions the engine must take, in order. It is deterministic, so that the
// engine can persist both before acting. An event that does not apply
// returns an error wrapping ErrRefused; /rollback applies to every state
// that has not ended.
func Next(plan Plan, s State, ev Event, now time.Time) (State, []Action, error) {
	if s.Terminal() {
		return s, nil, refuse("the rollout has ended: %s", s.Phase)
	}
	if s.Stage < 0 || s.Stage >= len(plan.Stages) {
		return s, nil, refuse("stage %d is not in the plan of %d stages", s.Stage+1, len(plan.Stages))
	}
	m := machine{plan: plan, s: s, now: now}
	switch ev := ev.(type) {
	case DeploymentSucceeded:
		return m.deployed()
	case DeploymentFailed:
		return m.deployFailed(ev.Reason)
	case AnalysisResult:
		return m.result(ev)
	case AnalysisUnavailable:
		return m.unavailable(ev)
	case TrafficMismatch:
		return m.mismatch(ev)
	case Promote:
		return m.promote(ev.Passing)
	case Rollback:
		return m.end(RolledBack, orDefault(ev.Reason, "rolled back by /rollback"))
	case Abort:
		return m.end(Aborted, "aborted by /abort")
	case Pause:
		return m.pause()
	case Resume:
		return m.resume()
	}
	return s, nil, refuse("unknown event %T", ev)
}

// machine holds one transition's inputs; its methods return Next's results.
type machine struct {
	plan Plan
	s    State
	now  time.Time
}

func (m machine) refused(format string, args ...any) (State, []Action, error) {
	return m.s, nil, refuse(format, args...)
}

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// stage names the current stage for people: "stage 2 (25 %)".
func (m machine) stage() string {
	return fmt.Sprintf("stage %d (%g %%)", m.s.Stage+1, m.plan.Stages[m.s.Stage].Traffic)
}

// doing says what the current stage is doing, for refusals.
func (m machine) doing() string {
	switch m.s.Phase {
	case Deploying:
		return m.stage() + " is still deploying"
	case Analyzing:
		return fmt.Sprintf("%s is analysing (look %d of %d)", m.stage(), m.s.Look, m.plan.Looks(m.s.Stage))
	case Waiting:
		return m.stage() + " waits for /promote"
	}
	return m.stage() + " is paused"
}

func (m machine) deployed() (State, []Action, error) {
	switch {
	case m.s.Phase == Deploying:
		return m.startStage()
	case m.s.Phase == Paused && m.s.Resume == Deploying:
		// The window starts on /resume; until then nothing is judged.
		m.s.Resume = Analyzing
		return m.s, []Action{UpdateComment{}}, nil
	}
	return m.refused("no deployment is pending: %s", m.doing())
}

func (m machine) deployFailed(reason string) (State, []Action, error) {
	if m.s.Phase != Deploying && !(m.s.Phase == Paused && m.s.Resume == Deploying) {
		return m.refused("no deployment is pending: %s", m.doing())
	}
	// The workflow has reported the failure on its deployment; traffic may
	// be half-shifted, so it goes back to the baseline.
	msg := fmt.Sprintf("the deployment of %s failed: %s", m.stage(), orDefault(reason, "no reason given"))
	m.s.Phase, m.s.Reason = Failed, msg
	return m.s, []Action{m.rollbackDeployment(), UpdateComment{}, PostComment{Text: msg + "; traffic returns to " + m.s.Baseline + "."}}, nil
}

// startStage opens the stage's analysis window, or passes a stage without.
func (m machine) startStage() (State, []Action, error) {
	st := m.plan.Stages[m.s.Stage]
	if st.Analysis == 0 {
		return m.passStage()
	}
	m.s.Phase, m.s.Since, m.s.Look, m.s.Extended, m.s.Unavailable, m.s.Resume = Analyzing, m.now, 1, false, 0, ""
	m.s.Outage, m.s.Recovering, m.s.Down, m.s.Restarted = false, false, false, false
	desc := fmt.Sprintf("analysing %s: %d looks every %s", m.stage(), m.plan.Looks(m.s.Stage), m.plan.Analysis.Interval)
	return m.s, []Action{
		SetDeploymentStatus{State: StatusInProgress, Description: desc},
		m.schedule(),
		UpdateComment{},
	}, nil
}

func (m machine) schedule() ScheduleAnalysis {
	return ScheduleAnalysis{At: m.now.Add(m.plan.Analysis.Interval), Look: m.s.Look}
}

// passStage follows a stage that passed: its gate, or the next stage.
func (m machine) passStage() (State, []Action, error) {
	if m.plan.Stages[m.s.Stage].Gate != GateManual {
		return m.advance()
	}
	m.s.Phase = Waiting
	text := fmt.Sprintf("%s is ready: /promote to go on, /rollback to stop.", m.stage())
	return m.s, []Action{UpdateComment{}, PostComment{Text: text}}, nil
}

// advance deploys the next stage, or ends the rollout after the last.
func (m machine) advance() (State, []Action, error) {
	if m.s.Stage == len(m.plan.Stages)-1 {
		m.s.Phase, m.s.Reason = Promoted, fmt.Sprintf("all %d stages passed", len(m.plan.Stages))
		m.s.Outage, m.s.Recovering = false, false
		return m.s, []Action{
			SetDeploymentStatus{State: StatusSuccess, Description: "promoted to 100 %"},
			UpdateComment{},
			PostComment{Text: fmt.Sprintf("%s is promoted to 100 %%.", m.s.Version)},
		}, nil
	}
	m.s = State{Stage: m.s.Stage + 1, Phase: Deploying, Version: m.s.Version, Baseline: m.s.Baseline}
	return m.s, []Action{deployment(m.plan, m.s), UpdateComment{}}, nil
}

func (m machine) result(r AnalysisResult) (State, []Action, error) {
	if m.probing() {
		if err := m.checkProbe(r.Look); err != nil {
			return m.s, nil, err
		}
		return m.recover()
	}
	if err := m.checkLook(r.Look); err != nil {
		return m.s, nil, err
	}
	m.s.Unavailable, m.s.Recovering, m.s.Down = 0, false, false
	end := m.s.Look >= m.plan.Looks(m.s.Stage)
	switch {
	case r.Decision == DecisionFail && (r.Critical || end):
		return m.end(RolledBack, orDefault(r.Reason, "the analysis failed"))
	case r.Decision != DecisionPass && r.Decision != DecisionFail && r.Decision != DecisionInconclusive:
		return m.refused("unknown analysis decision %q", r.Decision)
	case !end:
		m.s.Look++
		return m.s, []Action{m.schedule(), UpdateComment{}}, nil
	case r.Decision == DecisionPass:
		return m.passStage()
	case !m.s.Extended:
		return m.extend(r.Reason)
	}
	why := fmt.Sprintf("%s is still inconclusive after %d looks (%s)", m.stage(), m.s.Look, orDefault(r.Reason, "no reason given"))
	return m.pauseFor(why)
}

// extend gives an inconclusive window one more interval, once.
func (m machine) extend(reason string) (State, []Action, error) {
	m.s.Extended = true
	m.s.Look++
	text := fmt.Sprintf("%s is inconclusive after %d looks (%s): the window is extended by %s.",
		m.stage(), m.s.Look-1, orDefault(reason, "no reason given"), m.plan.Analysis.Interval)
	return m.s, []Action{m.schedule(), UpdateComment{}, PostComment{Text: text}}, nil
}

func (m machine) unavailable(u AnalysisUnavailable) (State, []Action, error) {
	if m.probing() {
		return m.probed(u)
	}
	if err := m.checkLook(u.Look); err != nil {
		return m.s, nil, err
	}
	limit := m.plan.Analysis.ConsecutiveErrorLimit
	if limit <= 0 {
		limit = DefaultConsecutiveErrorLimit
	}
	if m.s.Recovering && u.NoData && m.s.Look == 1 {
		// The provider answers but has not collected a look's worth
		// since it came back (a restarted Prometheus scrapes again only
		// after its discovery delay): the window starts now, up to the
		// limit's number of times, before such looks count.
		m.s.Unavailable++
		if m.s.Unavailable >= limit {
			m.s.Recovering, m.s.Unavailable = false, 0
		}
		m.s.Since = m.now
		return m.s, []Action{m.schedule(), UpdateComment{}}, nil
	}
	m.s.Unavailable++
	m.s.Down = m.s.Down || !u.NoData
	if m.s.Unavailable >= limit {
		why := fmt.Sprintf("the metrics provider failed %d times in a row (%s)", m.s.Unavailable, orDefault(u.Reason, "no reason given"))
		if u.NoData && !m.s.Down {
			// It answers, without data: no outage to wait out, a person
			// must look at the queries (else the pause would end and
			// begin again for ever).
			return m.pauseFor(why)
		}
		return m.outage(why)
	}
	if u.NoData && m.s.Look == 1 {
		// The provider holds no samples of the window yet (it was down
		// or had not scraped): the look reads from now on, not again a
		// start it will never have data of.
		m.s.Since = m.now
	}
	if u.NoData && m.s.Look > 1 && !m.s.Restarted {
		// The provider holds no samples at the look's end (Prometheus
		// was not scraping then: a bot that was down through its outage
		// saw no failure of it), and a look at that same end would read
		// the same hole for ever: the window restarts now.
		look := m.s.Look
		m.s.Since, m.s.Look, m.s.Extended, m.s.Restarted = m.now, 1, false, true
		text := fmt.Sprintf("look %d of %s found no data at its end (%s): the stage's analysis restarts, %d looks every %s.",
			look, m.stage(), orDefault(u.Reason, "no reason given"), m.plan.Looks(m.s.Stage), m.plan.Analysis.Interval)
		return m.s, []Action{m.schedule(), UpdateComment{}, PostComment{Text: text}}, nil
	}
	// The same look is tried again an interval later.
	return m.s, []Action{m.schedule(), UpdateComment{}}, nil
}

// outage pauses a stage whose provider keeps failing, and goes on trying
// the awaited look as a probe.
func (m machine) outage(why string) (State, []Action, error) {
	m.s.Phase, m.s.Resume, m.s.Reason, m.s.Outage = Paused, Analyzing, why, true
	text := why + "; paused until it answers again, when the stage's analysis restarts on its own: " +
		"/resume to restart it now, /promote to go on, /rollback to stop."
	return m.s, []Action{UpdateComment{}, PostComment{Text: text}, m.schedule()}, nil
}

// probing says the rollout is paused by an outage and probes the provider.
func (m machine) probing() bool { return m.s.Phase == Paused && m.s.Outage }

// checkProbe refuses a probe's outcome that is not the awaited look's.
func (m machine) checkProbe(look int) error {
	if look != m.s.Look {
		return refuse("stale analysis of look %d: look %d is awaited as a probe", look, m.s.Look)
	}
	return nil
}

// probed follows a probe the provider could not answer, or answered
// without enough samples to judge: an answer all the same.
func (m machine) probed(u AnalysisUnavailable) (State, []Action, error) {
	if err := m.checkProbe(u.Look); err != nil {
		return m.s, nil, err
	}
	if u.NoData {
		return m.recover()
	}
	m.s.Unavailable++
	return m.s, []Action{m.schedule()}, nil
}

// recover restarts the window of a stage paused by an outage, now that
// the provider answers again, and says so on the pull request.
func (m machine) recover() (State, []Action, error) {
	m.s.Reason = ""
	s, actions, err := m.startStage()
	s.Recovering = true
	text := fmt.Sprintf("the metrics provider answers again: the analysis of %s restarts on its own, %d looks every %s.",
		m.stage(), m.plan.Looks(m.s.Stage), m.plan.Analysis.Interval)
	return s, append(actions, PostComment{Text: text}), err
}

// mismatch pauses a stage whose canary does not serve its share.
func (m machine) mismatch(t TrafficMismatch) (State, []Action, error) {
	if m.probing() {
		// The provider answered the probe.
		if err := m.checkProbe(t.Look); err != nil {
			return m.s, nil, err
		}
		return m.recover()
	}
	if err := m.checkLook(t.Look); err != nil {
		return m.s, nil, err
	}
	m.s.Unavailable, m.s.Down = 0, false
	return m.pauseFor(fmt.Sprintf("the traffic of %s is not where the plan puts it (%s)", m.stage(), orDefault(t.Reason, "no reason given")))
}

// checkLook refuses a judge outcome that is not the one awaited: late,
// duplicated, or arriving while the window is not running.
func (m machine) checkLook(look int) error {
	if m.s.Phase != Analyzing {
		return refuse("no analysis is running: %s", m.doing())
	}
	if look != m.s.Look {
		return refuse("stale analysis of look %d: look %d is awaited", look, m.s.Look)
	}
	return nil
}

// pauseFor pauses an analysing stage for a person to decide.
func (m machine) pauseFor(why string) (State, []Action, error) {
	m.s.Phase, m.s.Resume, m.s.Reason = Paused, Analyzing, why
	text := why + "; paused: /resume to analyse the stage again, /promote to go on, /rollback to stop."
	return m.s, []Action{UpdateComment{}, PostComment{Text: text}}, nil
}

func (m machine) promote(passing bool) (State, []Action, error) {
	switch {
	case m.s.Phase == Waiting:
		return m.advance()
	case m.s.Phase == Paused && m.s.Resume != Deploying:
		return m.advance()
	case m.s.Phase == Analyzing && passing:
		return m.advance()
	case m.s.Phase == Analyzing:
		return m.refused("nothing to promote yet: %s and the judge is not passing it; /pause first to skip the rest of the window", m.doing())
	}
	return m.refused("nothing to promote: %s", m.doing())
}

func (m machine) pause() (State, []Action, error) {
	if m.s.Phase == Paused {
		return m.refused("already paused: %s", m.doing())
	}
	m.s.Phase, m.s.Resume, m.s.Reason = Paused, m.s.Phase, "paused by /pause"
	return m.s, []Action{UpdateComment{}}, nil
}

// resume returns to the phase before the pause; a paused window starts
// again from its first look, since its looks were planned together.
func (m machine) resume() (State, []Action, error) {
	if m.s.Phase != Paused {
		return m.refused("nothing to resume: %s", m.doing())
	}
	if m.s.Resume == Analyzing {
		return m.startStage()
	}
	m.s.Phase, m.s.Resume, m.s.Reason = m.s.Resume, "", ""
	return m.s, []Action{UpdateComment{}}, nil
}

// end rolls traffic back to the baseline and ends the rollout as phase.
func (m machine) end(phase Phase, reason string) (State, []Action, error) {
	m.s.Phase, m.s.Reason, m.s.Outage, m.s.Recovering = phase, reason, false, false
	verb := "rolled back"
	if phase == Aborted {
		verb = "aborted"
	}
	text := fmt.Sprintf("%s %s at %s: %s; traffic returns to %s.", m.s.Version, verb, m.stage(), reason, m.s.Baseline)
	return m.s, []Action{
		SetDeploymentStatus{State: StatusFailure, Description: reason},
		m.rollbackDeployment(),
		UpdateComment{},
		PostComment{Text: text},
	}, nil
}

func (m machine) rollbackDeployment() CreateDeployment {
	return CreateDeployment{Task: TaskRollback, Stage: m.s.Stage, TrafficPercent: 100, Version: m.s.Baseline}
}

// deployment creates the current stage's deployment: the last stage is
// the promotion to 100 %.
func deployment(plan Plan, s State) CreateDeployment {
	task := TaskCanary
	if s.Stage == len(plan.Stages)-1 {
		task = TaskPromote
	}
	return CreateDeployment{Task: task, Stage: s.Stage, TrafficPercent: plan.Stages[s.Stage].Traffic, Version: s.Version}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
