// Command bot is modelgate's GitHub App: the webhook server that drives
// canary rollouts from ChatOps comments, and its companion commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: bot <command> [flags]

commands:
  serve     run the webhook server
  judge     judge canary cases: JSON lines on stdin, decisions on stdout
  history   which version served which environment, when, decided by whom
  testdrive a whole canary rollout on this machine: embedded fake GitHub and metrics
  version   print the version
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code:
// 0 success, 1 the command ran and failed, 2 the command could not run.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "judge":
		return runJudge(ctx, args[1:], stdin, stdout, stderr)
	case "history":
		return runHistory(ctx, args[1:], stdout, stderr)
	case "testdrive":
		return runTestdrive(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "modelgate bot %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "bot: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
