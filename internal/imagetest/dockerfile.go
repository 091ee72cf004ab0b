package imagetest

import (
	"fmt"
	"io"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Stage is one FROM of a Dockerfile and the instructions under it.
type Stage struct {
	Name     string // the AS name, or the stage's index
	Base     string // the image or the earlier stage it starts from, unexpanded
	Platform string // the --platform flag, unexpanded
	Steps    []Step
	Line     int
}

// Step is one instruction, as BuildKit's parser reads it.
type Step struct {
	Command string   // lower case: run, copy, env …
	Args    []string // the words after it (for ENV: name, value, separator, name…)
	Flags   []string // --from=build, --chown=…
	JSON    bool     // the exec form: RUN ["a", "b"]
	Line    int
	Text    string // the line as written, for errors
}

// Dockerfile is the stages of a Dockerfile and the ARGs before its first FROM.
type Dockerfile struct {
	GlobalArgs []Step
	Stages     []Stage
}

// ParseDockerfile reads a Dockerfile with BuildKit's own parser.
func ParseDockerfile(r io.Reader) (*Dockerfile, error) {
	res, err := parser.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	df := &Dockerfile{}
	for _, n := range res.AST.Children {
		step := Step{Command: strings.ToLower(n.Value), Flags: n.Flags, JSON: n.Attributes["json"], Line: n.StartLine, Text: n.Original}
		for a := n.Next; a != nil; a = a.Next {
			step.Args = append(step.Args, a.Value)
		}
		if step.Command == "from" {
			stage, err := fromStep(step, len(df.Stages))
			if err != nil {
				return nil, err
			}
			df.Stages = append(df.Stages, stage)
			continue
		}
		if len(df.Stages) == 0 {
			if step.Command != "arg" {
				return nil, fmt.Errorf("Dockerfile line %d: %s before the first FROM", step.Line, step.Command)
			}
			df.GlobalArgs = append(df.GlobalArgs, step)
			continue
		}
		last := &df.Stages[len(df.Stages)-1]
		last.Steps = append(last.Steps, step)
	}
	if len(df.Stages) == 0 {
		return nil, fmt.Errorf("parse Dockerfile: no FROM")
	}
	return df, nil
}

func fromStep(s Step, index int) (Stage, error) {
	st := Stage{Name: fmt.Sprint(index), Line: s.Line}
	switch {
	case len(s.Args) == 1:
	case len(s.Args) == 3 && strings.EqualFold(s.Args[1], "as"):
		st.Name = strings.ToLower(s.Args[2])
	default:
		return st, fmt.Errorf("Dockerfile line %d: FROM wants an image and an optional AS name: %s", s.Line, s.Text)
	}
	st.Base = s.Args[0]
	for _, f := range s.Flags {
		if v, ok := strings.CutPrefix(f, "--platform="); ok {
			st.Platform = v
			continue
		}
		return st, fmt.Errorf("Dockerfile line %d: FROM flag %s is not supported here", s.Line, f)
	}
	return st, nil
}

// Stage returns the stage named name.
func (d *Dockerfile) Stage(name string) (Stage, bool) {
	for _, s := range d.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return Stage{}, false
}

// flag returns the value of --name= among flags.
func flag(flags []string, name string) (string, bool) {
	for _, f := range flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}
