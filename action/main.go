// Command action is modelgate's GitHub Action and local CLI: it validates
// model manifests and lineage, builds the lineage graph, and reports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `usage: action <command> [DIR] [flags]

commands:
  validate    check manifests and lineage; exit 1 on errors
  lineage     print the lineage graph (--format mermaid|dot)
  inventory   list the model versions (--format markdown|json; --live: where each serves now)
  verify      run the Rego unit tests of a policy directory (default: the built-in bundle)
  github      run as the GitHub Action (configured by INPUT_* and GITHUB_* variables)
  version     print the version

Run "action <command> -h" for the flags of a command.
Exit codes: 0 clean, 1 findings at error level, 2 the tool could not run.
`

// version is set at build time with -ldflags "-X main.version=...", as the
// Dockerfile does with its VERSION argument (the release workflow passes the
// tag). Without it, toolVersion asks the build information.
var version = "dev"

// toolVersion is the version reports name: the one set at build time; else
// the module's, for a binary built by go install module@version; else the
// commit it was built from; else dev.
func toolVersion() string {
	if version != "dev" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) >= 12 {
		return "dev+" + rev[:12] + dirty
	}
	return version
}

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

// batchGCPercent is the garbage collector's target for a check: a run is a
// short batch job, so it collects less often than Go's default (100), which
// saves CPU time. The heap then peaks near 1+300/100 = 4 times what is live,
// which a check keeps small (the text of each file, the graph, the
// findings): 100,000 manifests with the default bundle peak near 1.4 GiB
// (1.7 GiB at 400, over the 2 GiB a check of that size may take on a
// standard runner with some margin). GOGC, when set, wins.
const batchGCPercent = 300

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(batchGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	commands := map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"validate":  runValidate,
		"lineage":   runLineage,
		"inventory": runInventory,
		"github":    runGitHub,
		"verify":    runVerify,
	}
	switch cmd := args[0]; {
	case commands[cmd] != nil:
		return commands[cmd](ctx, args[1:], stdout, stderr)
	case cmd == "version" || cmd == "--version":
		fmt.Fprintf(stdout, "modelgate action %s\n", toolVersion())
		return exitOK
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "action: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// parse parses flags that may stand before or after the one positional
// argument, the repository directory (default ".").
func parse(fs *flag.FlagSet, args []string) (dir string, err error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", printedError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch len(positional) {
	case 0:
		return ".", nil
	case 1:
		return positional[0], nil
	default:
		return "", fmt.Errorf("expected one directory, got %d: %q", len(positional), positional)
	}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("action "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// usageError prints a flag problem and returns the usage exit code; -h is
// not an error. The flag package has printed its own errors already.
func usageError(err error, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if !errors.As(err, new(printedError)) {
		fmt.Fprintln(stderr, err)
	}
	return exitUsage
}

// printedError is an error the flag package has printed, with the usage.
type printedError struct{ err error }

func (e printedError) Error() string { return e.err.Error() }
func (e printedError) Unwrap() error { return e.err }
