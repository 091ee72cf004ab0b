// Package workflowcheck reads GitHub Actions files as GitHub reads them:
// an action's metadata through @action-validator/cli (the schema of the
// action metadata syntax, after a strict YAML parse), workflows through
// actionlint. Both are outside tools; the helpers that find them skip a
// test without them, or fail it under CI=true (internal/needs).
package workflowcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/modelgate/modelgate/internal/needs"
)

// Validator runs @action-validator/cli, installed by `npm ci` in
// tools/action-validator.
type Validator struct {
	node, script string
}

// FindValidator finds node and the validator installed under root (the
// repository's root directory).
func FindValidator(t needs.TB, root string) Validator {
	t.Helper()
	const install = "install node and run `npm ci` in tools/action-validator"
	node := needs.Command(t, "node", install)
	script := filepath.Join(root, "tools", "action-validator", "node_modules", "@action-validator", "cli", "cli.mjs")
	if _, err := os.Stat(script); err != nil {
		needs.Missing(t, "@action-validator/cli", install, err)
	}
	return Validator{node: node, script: script}
}

// Check validates the action metadata or workflow at path (the validator
// tells them apart by the file name: action.yml and action.yaml are
// metadata). The error carries the validator's messages.
func (v Validator) Check(ctx context.Context, path string) error {
	cmd := exec.CommandContext(ctx, v.node, v.script, path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		// The validator writes its JSON report on standard error.
		return fmt.Errorf("%s does not validate:\n%s", path, describe(append(stdout.Bytes(), stderr.Bytes()...)))
	}
	if err != nil {
		return fmt.Errorf("run @action-validator/cli on %s: %w\n%s%s", path, err, stdout.Bytes(), stderr.Bytes())
	}
	return nil
}

// report is the validator's JSON answer for a file that does not validate.
type report struct {
	ActionType string           `json:"actionType"`
	Errors     []validatorError `json:"errors"`
}

type validatorError struct {
	Code     string `json:"code"`
	Detail   string `json:"detail"`
	Path     string `json:"path"`
	Title    string `json:"title"`
	Location *struct {
		Line   int `json:"line"`
		Column int `json:"column"`
	} `json:"location"`
	States []struct {
		Errors []validatorError `json:"errors"`
	} `json:"states"`
}

// describe turns the validator's JSON into one line per error; output it
// cannot read is returned as it is.
func describe(out []byte) string {
	var r report
	if err := json.Unmarshal(out, &r); err != nil || len(r.Errors) == 0 {
		return string(out)
	}
	var b strings.Builder
	for _, e := range r.Errors {
		writeError(&b, e, "  ")
	}
	return strings.TrimRight(b.String(), "\n")
}

func writeError(b *strings.Builder, e validatorError, indent string) {
	b.WriteString(indent)
	if e.Location != nil {
		fmt.Fprintf(b, "line %d column %d: ", e.Location.Line, e.Location.Column)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Title)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	b.WriteString("\n")
	for i, s := range e.States {
		fmt.Fprintf(b, "%s  alternative %d:\n", indent, i+1)
		for _, inner := range s.Errors {
			writeError(b, inner, indent+"    ")
		}
	}
}

// Linter runs actionlint.
type Linter struct {
	path string
}

// ActionlintVersion is the release .ci/run installs.
const ActionlintVersion = "v1.7.12"

// FindLinter finds actionlint on PATH or in the Go bin directory.
// Another release of it counts as missing: its checks differ.
func FindLinter(t needs.TB) Linter {
	t.Helper()
	install := "go install github.com/rhysd/actionlint/cmd/actionlint@" + ActionlintVersion
	path := needs.Command(t, "actionlint", install)
	out, err := exec.Command(path, "-version").Output()
	if first, _, _ := strings.Cut(string(out), "\n"); err != nil || first != ActionlintVersion {
		needs.Missing(t, "actionlint "+ActionlintVersion, install, fmt.Errorf("%s is %q (%v)", path, first, err))
	}
	return Linter{path: path}
}

// Check lints the workflow files, named relative to dir (a project whose
// .github/workflows they are in, so that local actions are read from dir).
// shellcheck and pyflakes are turned off: what is checked must not depend
// on what else the machine has installed.
func (l Linter) Check(ctx context.Context, dir string, files ...string) error {
	args := append([]string{"-no-color", "-oneline", "-shellcheck=", "-pyflakes="}, files...)
	cmd := exec.CommandContext(ctx, l.path, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return fmt.Errorf("actionlint found problems:\n%s", bytes.TrimRight(out, "\n"))
	}
	if err != nil {
		return fmt.Errorf("run actionlint: %w\n%s", err, out)
	}
	return nil
}
