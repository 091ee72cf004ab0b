// Package needs is how a test says that it needs a component from outside
// Go (git, PostgreSQL, Prometheus, an npm package, debootstrap…): without
// it the test skips with a message saying how to install it, or fails when
// CI=true, where .ci/run installs every component.
//
// `go test ./...` prints nothing of a passing package but its "ok" line,
// test binary output included, so a skip's message would go unseen. The
// first skip of each component in a test process therefore also writes one
// line straight to the go command's standard output (on Linux, through
// /proc; elsewhere to the test's own standard error, shown with -v), and
// keeps the run out of the test cache, so that the line shows again on the
// next run and the skipped tests run once the component is installed.
package needs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TB is the part of testing.TB that Missing uses.
type TB interface {
	Helper()
	Skip(args ...any)
	Fatal(args ...any)
}

// announced holds the components already announced by this test process:
// one line per package and component, however many tests skip.
var announced sync.Map

// Missing skips t, or fails it under CI=true, because component is not
// available (err says why); install says how to get it.
func Missing(t TB, component, install string, err error) {
	t.Helper()
	missing(t, component, install, err, func(line string) {
		if !isTest(t) {
			return // a test of a helper, skipping a stand-in for a test
		}
		if _, done := announced.LoadOrStore(component, true); !done {
			announce(line)
		}
	})
}

// isTest tells a test or benchmark of the go command from a stand-in.
func isTest(t TB) bool {
	switch t.(type) {
	case *testing.T, *testing.B, *testing.F:
		return true
	}
	return false
}

func missing(t TB, component, install string, err error, announce func(string)) {
	t.Helper()
	reason := strings.ReplaceAll(fmt.Sprint(err), "\n", "; ")
	msg := fmt.Sprintf("needs %s: %s; %s", component, reason, install)
	if os.Getenv("CI") == "true" {
		t.Fatal("CI " + msg)
	}
	announce(fmt.Sprintf("SKIPPED tests in %s: %s", packagePath(), msg))
	t.Skip("SKIPPED, NOT TESTED: " + msg)
}

// Command returns the path of the command name on PATH or in the Go bin
// directory, or skips t (fails it under CI=true) saying how to install it.
func Command(t TB, name, install string) string {
	t.Helper()
	path, err := lookPath(name)
	if err != nil {
		Missing(t, name, install, err)
	}
	return path
}

// lookPath is exec.LookPath, and also looks in the Go bin directory, where
// `go install` puts tools that need not be on PATH.
func lookPath(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	for _, dir := range goBinDirs() {
		candidate := filepath.Join(dir, name)
		if info, serr := os.Stat(candidate); serr == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", err
}

func goBinDirs() []string {
	if bin := os.Getenv("GOBIN"); bin != "" {
		return []string{bin}
	}
	var dirs []string
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil && os.Getenv("GOPATH") == "" {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	return dirs
}

// announce writes line where `go test` shows it without -v, and keeps this
// run out of the test cache.
func announce(line string) {
	uncacheable(line)
	if testing.Verbose() {
		// -v (and -json, which runs the test verbosely) shows the skip;
		// the go command's own output must stay valid test2json there.
		return
	}
	if w, err := goCommandStdout(); err == nil {
		fmt.Fprintln(w, line)
		w.Close()
		return
	}
	fmt.Fprintln(os.Stderr, line)
}

// goCommandStdout opens the standard output of the go command that runs
// this test binary, when it is the parent process and that output is a
// terminal or a pipe. A regular file is left alone: a second open of it
// has an offset of its own, and the go command would write over the line.
func goCommandStdout() (*os.File, error) {
	parent := "/proc/" + strconv.Itoa(os.Getppid())
	exe, err := os.Readlink(parent + "/exe")
	if err != nil {
		return nil, err
	}
	if base := filepath.Base(exe); base != "go" && base != "go.exe" {
		return nil, errors.New("the parent process is not the go command")
	}
	f, err := os.OpenFile(parent+"/fd/1", os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err != nil || info.Mode()&(os.ModeCharDevice|os.ModeNamedPipe) == 0 {
		f.Close()
		return nil, errors.New("the go command's output is not a terminal or a pipe")
	}
	return f, nil
}

// uncacheable reads a file of the module that was just written: the go
// command does not cache a test run that read a file younger than two
// seconds, so a run that skipped is never replayed from the cache.
func uncacheable(line string) {
	root, err := moduleRoot()
	if err != nil {
		return
	}
	dir := filepath.Join(root, ".skipped")
	if os.MkdirAll(dir, 0o755) != nil {
		return
	}
	name := filepath.Join(dir, strings.NewReplacer("/", "_", ".", "_").Replace(packagePath()))
	if os.WriteFile(name, []byte(line+"\n"), 0o644) == nil {
		_, _ = os.ReadFile(name)
	}
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// packagePath is the import path of the package under test.
func packagePath() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Path != "" {
		return strings.TrimSuffix(bi.Path, ".test")
	}
	return filepath.Base(os.Args[0])
}
