// Command realbench runs the real-data accuracy benchmark of the canary
// judge (package realbench) and prints its table.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/modelgate/modelgate/internal/realbench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts := realbench.DefaultOptions()
	fs := flag.NewFlagSet("realbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&opts.Pairs, "pairs", opts.Pairs, "version pairs per scenario")
	fs.DurationVar(&opts.Record, "record", opts.Record, "how long Prometheus records")
	fs.DurationVar(&opts.Stage, "stage", opts.Stage, "a stage's analysis window")
	fs.IntVar(&opts.Looks, "looks", opts.Looks, "looks per stage")
	fs.DurationVar(&opts.Scrape, "scrape", opts.Scrape, "Prometheus's scrape interval")
	fs.IntVar(&opts.Workers, "workers", opts.Workers, "parallel workers judging windows")
	fs.Uint64Var(&opts.Seed, "seed", opts.Seed, "random seed of the exporter")
	fs.BoolVar(&opts.Simulated, "simulated", false, "record with the fake Prometheus in simulated time (count kinds only)")
	only := fs.String("only", "", "run only the scenarios whose name contains this")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, sc := range realbench.Scenarios() {
		if strings.Contains(sc.Name, *only) {
			opts.Scenarios = append(opts.Scenarios, sc)
		}
	}
	opts.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, "realbench: "+format+"\n", a...) }
	res, err := realbench.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "realbench: %v\n", err)
		return 1
	}
	if err := res.WriteMarkdown(stdout); err != nil {
		fmt.Fprintf(stderr, "realbench: %v\n", err)
		return 1
	}
	return 0
}
