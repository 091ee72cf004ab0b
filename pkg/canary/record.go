package canary

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// Record is the engine's state of one rollout, kept as JSON in
// store.Rollout.Record and replaced whole at each transition.
type Record struct {
	State rollout.State `json:"state"`
	// Delivery is the webhook delivery of the /canary that started the
	// rollout: a redelivery of it finds its rollout instead of a conflict.
	Delivery string `json:"delivery,omitempty"`
	// Outbox holds the effects of transitions not yet carried out, in
	// order; the effects job takes them from the front.
	Outbox []Effect `json:"outbox,omitempty"`
	// Seq numbers effects; notices carry it in their marker.
	Seq int `json:"seq"`
	// CommentID is the status comment, once posted.
	CommentID int64 `json:"comment_id,omitempty"`
	// Deployments holds each stage's deployment id, by stage index.
	Deployments []int64 `json:"deployments"`
	// Rollback is the deploy:rollback deployment, once created.
	Rollback int64 `json:"rollback_deployment,omitempty"`
	// Analysis is the latest judged look of the current stage.
	Analysis *Look `json:"analysis,omitempty"`
}

// EffectKind is what an effect does.
type EffectKind string

// The kinds of effect.
const (
	EffectDeploy  EffectKind = "deploy"
	EffectStatus  EffectKind = "status"
	EffectAnalyse EffectKind = "analyse"
	EffectComment EffectKind = "comment"
	EffectNote    EffectKind = "note"
	EffectAudit   EffectKind = "audit"
)

// Effect is one thing a transition asked for, stored before it is done.
type Effect struct {
	Seq     int               `json:"seq"`
	Kind    EffectKind        `json:"kind"`
	Task    string            `json:"task,omitempty"`
	Stage   int               `json:"stage"`
	Traffic float64           `json:"traffic,omitempty"`
	Version string            `json:"version,omitempty"`
	State   string            `json:"state,omitempty"`
	Text    string            `json:"text,omitempty"`
	At      time.Time         `json:"at,omitzero"`
	Look    int               `json:"look,omitempty"`
	Actor   string            `json:"actor,omitempty"`
	Action  store.AuditAction `json:"action,omitempty"`
	// Details are an audit entry's own details (a judged look's replay
	// line), merged with the rollout and stage.
	Details json.RawMessage `json:"details,omitempty"`
	// Deployment is the deployment a stage's audit entry names.
	Deployment int64 `json:"deployment,omitempty"`
	// Tried says an attempt began: the effect may have reached GitHub,
	// so the next attempt looks for it before writing again.
	Tried bool `json:"tried,omitempty"`
	// TriedAt is when the last attempt began; a write that is not found
	// soon after may still be on its way to GitHub.
	TriedAt time.Time `json:"tried_at,omitzero"`
}

// Look is one judged look at a stage's metrics, as stored: numbers that
// may be NaN are Nums.
type Look struct {
	At       time.Time    `json:"at"`
	Since    time.Time    `json:"since"`
	Look     int          `json:"look"`
	Looks    int          `json:"looks"`
	Decision string       `json:"decision"`
	Reason   string       `json:"reason"`
	Error    string       `json:"error,omitempty"`
	Metrics  []LookMetric `json:"metrics,omitempty"`
	// Split is the canary's share of the requests, when a count metric
	// counted them.
	Split *Split `json:"split,omitempty"`
	// Line is the `bot judge` line that replays the look from the data it
	// read: counts per slice, or samples.
	Line json.RawMessage `json:"line,omitempty"`
}

// Split is the requests each side served over a look, and the stage's
// traffic for the canary in percent.
type Split struct {
	Metric   string  `json:"metric"`
	Baseline float64 `json:"baseline"`
	Canary   float64 `json:"canary"`
	Want     float64 `json:"want"`
}

// LookMetric is one metric of a judged look.
type LookMetric struct {
	Name       string  `json:"name"`
	Direction  string  `json:"direction"`
	Tolerance  float64 `json:"tolerance"`
	Critical   bool    `json:"critical"`
	Baseline   Num     `json:"baseline"`
	Canary     Num     `json:"canary"`
	Change     Num     `json:"change"`
	CI         [2]Num  `json:"ci"`
	P          Num     `json:"p"`
	Confidence float64 `json:"confidence"`
	Verdict    string  `json:"verdict"`
	Reason     string  `json:"reason,omitempty"`
	// Kind is the metric's kind (query, ratio, histogram); empty in
	// looks stored before kinds existed.
	Kind string `json:"kind,omitempty"`
	// Requests are the requests each side served, for the count kinds.
	Requests [2]float64 `json:"requests,omitzero"`
	// Dispersion is the over-dispersion applied to a count kind's test.
	Dispersion float64 `json:"dispersion,omitempty"`
	// Notes are what reading the metric noticed.
	Notes []string `json:"notes,omitempty"`
	// Series are the samples of each side, or for the count kinds each
	// slice's rate or quantile, thinned for the chart.
	BaselineSeries []Point `json:"baseline_series,omitempty"`
	CanarySeries   []Point `json:"canary_series,omitempty"`
}

// Point is one sample of a series.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Num is a float64 that is null in JSON when it is NaN or infinite.
type Num float64

// MarshalJSON writes null for NaN and infinities.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Rollout is a stored rollout with its plan and record decoded.
type Rollout struct {
	Row    store.Rollout
	Plan   rollout.Plan
	Record Record
}

// Decode reads a stored rollout's plan and record.
func Decode(ro store.Rollout) (Rollout, error) {
	l := Rollout{Row: ro}
	if err := json.Unmarshal(ro.Plan, &l.Plan); err != nil {
		return l, fmt.Errorf("rollout %d: decode plan: %w", ro.ID, err)
	}
	if err := json.Unmarshal(ro.Record, &l.Record); err != nil {
		return l, fmt.Errorf("rollout %d: decode record: %w", ro.ID, err)
	}
	return l, nil
}

// Encode writes the record back into the row, with the columns that
// mirror it for queries.
func (l *Rollout) Encode() error {
	b, err := json.Marshal(l.Record)
	if err != nil {
		return fmt.Errorf("rollout %d: encode record: %w", l.Row.ID, err)
	}
	l.Row.Record = b
	l.Row.State, _ = stored(l.Record.State.Phase)
	l.Row.Stage = l.Record.State.Stage
	l.Row.BaselineVersion = l.Record.State.Baseline
	if l.Record.State.Stage < len(l.Plan.Stages) {
		l.Row.TrafficPercent = int(math.Round(l.Plan.Stages[l.Record.State.Stage].Traffic))
	}
	return nil
}

// stored are the store's words for a phase: the coarse state of the row
// (active rollouts are running or paused) and, for a terminal phase, the
// audit action that records the end.
func stored(p rollout.Phase) (store.RolloutState, store.AuditAction) {
	switch p {
	case rollout.Paused:
		return store.RolloutPaused, ""
	case rollout.Promoted:
		return store.RolloutPromoted, store.ActionRolloutPromoted
	case rollout.RolledBack:
		return store.RolloutRolledBack, store.ActionRolloutRolledBack
	case rollout.Aborted:
		return store.RolloutAborted, store.ActionRolloutAborted
	case rollout.Failed:
		return store.RolloutFailed, store.ActionRolloutFailed
	}
	return store.RolloutRunning, ""
}

// Enqueue turns a transition's actions into effects.
func (l *Rollout) Enqueue(actions []rollout.Action) {
	for _, a := range actions {
		ef := Effect{Stage: l.Record.State.Stage}
		switch a := a.(type) {
		case rollout.CreateDeployment:
			ef.Kind, ef.Task, ef.Stage, ef.Traffic, ef.Version = EffectDeploy, a.Task, a.Stage, a.TrafficPercent, a.Version
		case rollout.SetDeploymentStatus:
			ef.Kind, ef.State, ef.Text = EffectStatus, a.State, a.Description
		case rollout.ScheduleAnalysis:
			ef.Kind, ef.At, ef.Look = EffectAnalyse, a.At, a.Look
		case rollout.UpdateComment:
			ef.Kind = EffectComment
		case rollout.PostComment:
			ef.Kind, ef.Text = EffectNote, a.Text
		default:
			continue
		}
		l.Push(ef)
	}
}

// Push appends an effect to the outbox, numbering it.
func (l *Rollout) Push(ef Effect) {
	l.Record.Seq++
	ef.Seq = l.Record.Seq
	l.Record.Outbox = append(l.Record.Outbox, ef)
}

// SetDeployment records a stage's deployment.
func (l *Rollout) SetDeployment(stage int, id int64) {
	for len(l.Record.Deployments) <= stage {
		l.Record.Deployments = append(l.Record.Deployments, 0)
	}
	l.Record.Deployments[stage] = id
}

// Deployment is the stage's deployment, or 0 before it is known.
func (l Rollout) Deployment(stage int) int64 {
	if stage < 0 || stage >= len(l.Record.Deployments) {
		return 0
	}
	return l.Record.Deployments[stage]
}

// Audit fills an audit entry with the rollout it is about.
func (l Rollout) Audit(a store.AuditEntry, at time.Time) store.AuditEntry {
	a.At, a.Repo, a.PR, a.Model, a.Environment, a.RolloutID = at, l.Row.Repo, l.Row.PR, l.Row.Model, l.Row.Environment, l.Row.ID
	return a
}
