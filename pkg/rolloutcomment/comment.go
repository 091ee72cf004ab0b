// Package rolloutcomment renders the pull-request comment that follows a
// canary rollout, edited in place at every change, and its short notices.
package rolloutcomment

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modelgate/modelgate/pkg/markdown"
)

// MaxLen is GitHub's limit on a comment's body, which Status and Note keep
// to. It is counted here in bytes, which is never fewer than GitHub's count
// of characters.
const MaxLen = 65536

// Marker returns the hidden HTML comment that identifies a rollout's status
// comment, e.g. "<!-- modelgate:rollout=7:status -->"; the engine searches
// comments for it after a crash.
func Marker(rolloutID int64) string {
	return fmt.Sprintf("<!-- modelgate:rollout=%d:status -->", rolloutID)
}

// NoteMarker identifies one notice comment:
// "<!-- modelgate:rollout=7:note=12 -->".
func NoteMarker(rolloutID int64, seq int) string {
	return fmt.Sprintf("<!-- modelgate:rollout=%d:note=%d -->", rolloutID, seq)
}

// ReplyMarker is the hidden marker of the reply to command id (the
// command's row in the store), e.g. "<!-- modelgate:command=7:reply -->":
// a command tried again looks for it before replying twice.
func ReplyMarker(commandID int64) string {
	return fmt.Sprintf("<!-- modelgate:command=%d:reply -->", commandID)
}

// View is what the status comment shows of a rollout. Every string in it
// may come from the pull request and is escaped when rendered.
type View struct {
	RolloutID                             int64
	Model, Version, Baseline, Environment string
	// HeadSHA is the deployed commit, shown short (7) and linked when
	// RepoURL is set.
	HeadSHA string
	// RepoURL is https://github.com/owner/repo, or "".
	RepoURL string
	// StartedBy is the login of who wrote /canary.
	StartedBy string
	// StartedAt is when the rollout started; zero hides its duration.
	StartedAt time.Time
	// Phase is a pkg/rollout Phase: deploying, analyzing, waiting, paused,
	// promoted, rolled_back, aborted, failed.
	Phase string
	// Reason says why the rollout is paused or has ended.
	Reason string
	// Outage says the pause is the metrics provider's, and ends on its
	// own once it answers again.
	Outage bool
	// Stages is the plan.
	Stages []Stage
	// Current is the index of the current stage.
	Current int
	// Look and Looks place the current look in the window (0 when not
	// analysing).
	Look, Looks int
	// Interval is the time between looks.
	Interval time.Duration
	// Analysis is the latest judgement, nil before the first.
	Analysis *Analysis
	// UpdatedAt is when the comment was rendered.
	UpdatedAt time.Time
}

// Stage is one step of the plan.
type Stage struct {
	// Traffic is the canary's share in percent (5 = 5 %).
	Traffic float64
	// Window is the analysis window; 0 for none.
	Window time.Duration
	// Manual is true for a stage that waits for /promote once it passed.
	Manual bool
	// State is pending, deploying, analyzing, passed, failed, skipped or
	// waiting.
	State string
	// DeploymentID is the stage's GitHub deployment; 0 before it exists.
	DeploymentID int64
}

// Analysis is one judgement of the current window.
type Analysis struct {
	At          time.Time
	Look, Looks int
	// Since is when the window opened: the charts count time from it. Zero
	// counts from the first sample.
	Since time.Time
	// Decision is pass, fail, inconclusive, or nodata when the metrics
	// provider failed: then Error says why.
	Decision string
	Reason   string
	Error    string
	Metrics  []Metric
}

// Metric is one metric's judgement, as pkg/judge.Result, with its samples.
type Metric struct {
	Name, Direction string
	Tolerance       float64
	Critical        bool
	// Baseline and Canary are a central value (the median) of each side,
	// NaN without data.
	Baseline, Canary float64
	// Change is the relative change (0.031 = +3.1 %), CI its interval at
	// Confidence, and P the judge's p-value; NaN when the verdict is nodata.
	Change     float64
	CI         [2]float64
	P          float64
	Confidence float64
	// Verdict is pass, fail or nodata.
	Verdict string
	Reason  string
	// BaselineSeries and CanarySeries are the window's samples.
	BaselineSeries, CanarySeries []Point
	// Kind is how the metric is read (query, ratio, histogram; empty:
	// query), and Requests the requests each side served for the count
	// kinds.
	Kind     string
	Requests [2]float64
}

// Point is one sample.
type Point struct {
	T time.Time
	V float64
}

// Note renders a notice: the text escaped as inert Markdown on one line
// (markdown.Text cuts it to markdown.MaxText characters, well within a
// comment), then the notice's marker.
func Note(rolloutID int64, seq int, text string) string {
	return markdown.Text(text) + "\n\n" + NoteMarker(rolloutID, seq)
}

// Status renders the status comment: it starts with Marker(v.RolloutID)
// and stays within MaxLen, dropping the charts first and then cutting the
// body at a line with a note.
func Status(v View) string {
	body := render(v, true)
	if len(body) <= MaxLen {
		return body
	}
	body = render(v, false)
	if len(body) <= MaxLen {
		return body
	}
	return cut(body, MaxLen)
}

// truncatedNote ends a body cut to fit MaxLen.
const truncatedNote = "\n\n*… cut here: the comment reached GitHub's limit of 65,536 characters.*\n"

// cut shortens body to at most limit bytes, ending at a whole line
// followed by truncatedNote.
func cut(body string, limit int) string {
	keep := limit - len(truncatedNote)
	i := strings.LastIndexByte(body[:keep], '\n')
	if i < 0 {
		i = keep
		for i > 0 && !utf8.RuneStart(body[i]) {
			i--
		}
	}
	return body[:i] + truncatedNote
}
