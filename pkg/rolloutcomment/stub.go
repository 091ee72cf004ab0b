// Package rolloutcomment renders a rollout's status comment and notices.
package rolloutcomment

import (
	"fmt"
	"strings"
	"time"
)

// Marker identifies a rollout's status comment.
func Marker(rolloutID int64) string {
	return fmt.Sprintf("<!-- modelgate:rollout=%d:status -->", rolloutID)
}

// NoteMarker identifies one notice comment.
func NoteMarker(rolloutID int64, seq int) string {
	return fmt.Sprintf("<!-- modelgate:rollout=%d:note=%d -->", rolloutID, seq)
}

// View is what the status comment shows.
type View struct {
	RolloutID                             int64
	Model, Version, Baseline, Environment string
	HeadSHA                               string
	RepoURL                               string
	StartedBy                             string
	Phase                                 string
	Reason                                string
	Stages                                []Stage
	Current                               int
	Look, Looks                           int
	Interval                              time.Duration
	Analysis                              *Analysis
	UpdatedAt                             time.Time
}

// Stage is one stage of the plan.
type Stage struct {
	Traffic      float64
	Window       time.Duration
	Manual       bool
	State        string
	DeploymentID int64
}

// Analysis is the latest judgement.
type Analysis struct {
	At          time.Time
	Look, Looks int
	Decision    string
	Reason      string
	Error       string
	Metrics     []Metric
}

// Metric is one metric's judgement.
type Metric struct {
	Name, Direction              string
	Tolerance                    float64
	Critical                     bool
	Baseline, Canary             float64
	Change                       float64
	CI                           [2]float64
	P                            float64
	Confidence                   float64
	Verdict                      string
	Reason                       string
	BaselineSeries, CanarySeries []Point
}

// Point is one sample.
type Point struct {
	T time.Time
	V float64
}

// Status renders the status comment.
func Status(v View) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n### %s %s: %s\n", Marker(v.RolloutID), v.Model, v.Version, v.Phase)
	if v.Analysis != nil {
		for _, m := range v.Analysis.Metrics {
			fmt.Fprintf(&b, "- %s %s\n", m.Name, m.Verdict)
		}
	}
	return b.String()
}

// Note renders a notice.
func Note(rolloutID int64, seq int, text string) string {
	return text + "\n\n" + NoteMarker(rolloutID, seq)
}
