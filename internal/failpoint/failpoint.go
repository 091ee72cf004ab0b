// Package failpoint kills the process at named points of its work, so
// that a chaos soak can hit the moments a timer would rarely find: a
// delivery stored but not yet acknowledged, a store write whose GitHub
// call has not been made, a GitHub call whose outcome is not yet stored, a
// look judged but not yet applied.
//
// It is compiled in only with the build tag failpoint; without it Hit is
// an empty function the compiler removes, so the bot that ships carries
// none of it. With the tag, the environment arms it:
//
//	MODELGATE_FAILPOINTS="effect.marked=0.05,intake.stored=0.02"
//
// gives each named point the chance that a hit kills the process with
// SIGKILL, as kill -9 would; MODELGATE_FAILPOINT_LOG names a file to
// which the point, its key and the time are appended (and synced) first,
// so that the soak knows what was cut off and when.
package failpoint

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The points the bot passes (name, and what its key is).
const (
	// IntakeStored: a webhook delivery is stored, not yet answered (key:
	// the delivery id).
	IntakeStored = "intake.stored"
	// IntakeAnswered: a delivery was answered 202 (key: the delivery id).
	IntakeAnswered = "intake.answered"
	// CommandReplied: a command's reply is posted, its outcome not yet
	// stored (key: the delivery id).
	CommandReplied = "command.replied"
	// EffectMarked: an effect is marked tried in the store, its GitHub
	// call not yet made (key: the rollout id).
	EffectMarked = "effect.marked"
	// EffectDone: an effect's GitHub call succeeded, its outcome not yet
	// stored (key: the rollout id).
	EffectDone = "effect.done"
	// LookJudged: a look is judged, its outcome not yet applied (key: the
	// rollout id).
	LookJudged = "look.judged"
)

// Points lists every point, for a soak that arms them all.
func Points() []string {
	return []string{IntakeStored, IntakeAnswered, CommandReplied, EffectMarked, EffectDone, LookJudged}
}

// Arm writes the MODELGATE_FAILPOINTS value that gives each point its
// chance of killing.
func Arm(chance map[string]float64) string {
	var parts []string
	for _, p := range Points() {
		if c, ok := chance[p]; ok {
			parts = append(parts, p+"="+strconv.FormatFloat(c, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}

// parse reads a MODELGATE_FAILPOINTS value.
func parse(spec string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, part := range strings.Split(spec, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, v, ok := strings.Cut(part, "=")
		c, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || c < 0 || c > 1 {
			return nil, fmt.Errorf("failpoint %q: want name=chance, the chance from 0 to 1", part)
		}
		out[name] = c
	}
	return out, nil
}

// Kill is one kill a failpoint made, as its log holds it.
type Kill struct {
	Point string
	Key   string
	At    time.Time
}

// ReadLog parses the lines of a MODELGATE_FAILPOINT_LOG file; a line cut
// short by the kill itself is left out.
func ReadLog(text string) []Kill {
	var out []Kill
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		ns, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, Kill{Point: f[0], Key: f[1], At: time.Unix(0, ns)})
	}
	return out
}

func logLine(point, key string, at time.Time) string {
	if key == "" {
		key = "-"
	}
	return fmt.Sprintf("%s %s %d\n", point, strings.Join(strings.Fields(key), "_"), at.UnixNano())
}
