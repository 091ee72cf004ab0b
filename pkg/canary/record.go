package canary

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// record is the engine's state of one rollout, kept as JSON in
// store.Rollout.Record and replaced whole at each transition.
type record struct {
	State rollout.State `json:"state"`
	// Delivery is the webhook delivery of the /canary that started the
	// rollout: a redelivery of it finds its rollout instead of a conflict.
	Delivery string `json:"delivery,omitempty"`
	// Outbox holds the effects of transitions not yet carried out, in
	// order; the effects job takes them from the front.
	Outbox []effect `json:"outbox,omitempty"`
	// Seq numbers effects; notices carry it in their marker.
	Seq int `json:"seq"`
	// CommentID is the status comment, once posted.
	CommentID int64 `json:"comment_id,omitempty"`
	// Deployments holds each stage's deployment id, by stage index.
	Deployments []int64 `json:"deployments"`
	// Rollback is the deploy:rollback deployment, once created.
	Rollback int64 `json:"rollback_deployment,omitempty"`
	// Analysis is the latest judgement of the current stage.
	Analysis *analysis `json:"analysis,omitempty"`
}

// The kinds of effect.
const (
	effDeploy  = "deploy"
	effStatus  = "status"
	effAnalyse = "analyse"
	effComment = "comment"
	effNote    = "note"
	effAudit   = "audit"
)

// effect is one thing a transition asked for, stored before it is done.
type effect struct {
	Seq     int               `json:"seq"`
	Kind    string            `json:"kind"`
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
	// Tried says an attempt began: the effect may have reached GitHub,
	// so the next attempt looks for it before writing again.
	Tried bool `json:"tried,omitempty"`
	// TriedAt is when the last attempt began; a write that is not found
	// soon after may still be on its way to GitHub.
	TriedAt time.Time `json:"tried_at,omitzero"`
}

// analysis is one judgement as stored: numbers that may be NaN are nums.
type analysis struct {
	At       time.Time        `json:"at"`
	Since    time.Time        `json:"since"`
	Look     int              `json:"look"`
	Looks    int              `json:"looks"`
	Decision string           `json:"decision"`
	Reason   string           `json:"reason"`
	Error    string           `json:"error,omitempty"`
	Metrics  []analysedMetric `json:"metrics,omitempty"`
}

type analysedMetric struct {
	Name       string  `json:"name"`
	Direction  string  `json:"direction"`
	Tolerance  float64 `json:"tolerance"`
	Critical   bool    `json:"critical"`
	Baseline   num     `json:"baseline"`
	Canary     num     `json:"canary"`
	Change     num     `json:"change"`
	CI         [2]num  `json:"ci"`
	P          num     `json:"p"`
	Confidence float64 `json:"confidence"`
	Verdict    string  `json:"verdict"`
	Reason     string  `json:"reason,omitempty"`
	// Series are the samples of each side, thinned for the chart.
	BaselineSeries []point `json:"baseline_series,omitempty"`
	CanarySeries   []point `json:"canary_series,omitempty"`
}

type point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// num is a float64 that is null in JSON when it is NaN or infinite.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

func (n *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = num(f)
	return nil
}

// loaded is a rollout with its plan and record decoded.
type loaded struct {
	row  store.Rollout
	plan rollout.Plan
	rec  record
}

func decode(ro store.Rollout) (loaded, error) {
	l := loaded{row: ro}
	if err := json.Unmarshal(ro.Plan, &l.plan); err != nil {
		return l, fmt.Errorf("rollout %d: decode plan: %w", ro.ID, err)
	}
	if err := json.Unmarshal(ro.Record, &l.rec); err != nil {
		return l, fmt.Errorf("rollout %d: decode record: %w", ro.ID, err)
	}
	return l, nil
}

// encode writes the record back into the row, with the columns that
// mirror it for queries.
func (l *loaded) encode() error {
	b, err := json.Marshal(l.rec)
	if err != nil {
		return fmt.Errorf("rollout %d: encode record: %w", l.row.ID, err)
	}
	l.row.Record = b
	l.row.State = storeState(l.rec.State.Phase)
	l.row.Stage = l.rec.State.Stage
	l.row.BaselineVersion = l.rec.State.Baseline
	if l.rec.State.Stage < len(l.plan.Stages) {
		l.row.TrafficPercent = int(math.Round(l.plan.Stages[l.rec.State.Stage].Traffic))
	}
	return nil
}

// storeState is the store's coarse state for a phase: active rollouts
// are running or paused.
func storeState(p rollout.Phase) store.RolloutState {
	switch p {
	case rollout.Paused:
		return store.RolloutPaused
	case rollout.Promoted:
		return store.RolloutPromoted
	case rollout.RolledBack:
		return store.RolloutRolledBack
	case rollout.Aborted:
		return store.RolloutAborted
	case rollout.Failed:
		return store.RolloutFailed
	}
	return store.RolloutRunning
}

// enqueue turns a transition's actions into effects.
func (l *loaded) enqueue(actions []rollout.Action) {
	for _, a := range actions {
		ef := effect{Stage: l.rec.State.Stage}
		switch a := a.(type) {
		case rollout.CreateDeployment:
			ef.Kind, ef.Task, ef.Stage, ef.Traffic, ef.Version = effDeploy, a.Task, a.Stage, a.TrafficPercent, a.Version
		case rollout.SetDeploymentStatus:
			ef.Kind, ef.State, ef.Text = effStatus, a.State, a.Description
		case rollout.ScheduleAnalysis:
			ef.Kind, ef.At, ef.Look = effAnalyse, a.At, a.Look
		case rollout.UpdateComment:
			ef.Kind = effComment
		case rollout.PostComment:
			ef.Kind, ef.Text = effNote, a.Text
		default:
			continue
		}
		l.push(ef)
	}
}

func (l *loaded) push(ef effect) {
	l.rec.Seq++
	ef.Seq = l.rec.Seq
	l.rec.Outbox = append(l.rec.Outbox, ef)
}
