// Command judgebench runs the judge accuracy benchmark and prints its tables
// and the targets it checks.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/judge/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts := sim.DefaultOptions()
	fs := flag.NewFlagSet("judgebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&opts.Reps, "reps", opts.Reps, "seeded replicates per scenario and size")
	fs.IntVar(&opts.Looks, "looks", opts.Looks, "analysis intervals per window when peeking")
	fs.IntVar(&opts.Workers, "workers", opts.Workers, "parallel workers")
	fs.Uint64Var(&opts.Seed, "seed", opts.Seed, "random seed")
	sizes := fs.String("sizes", "10,30,100,300", "final samples per side, comma-separated")
	only := fs.String("only", "", "run only the scenarios whose name contains this")
	overlap := fs.Bool("overlap", false, "run the A/A scenarios whose samples overlap or drift (sim.OverlapScenarios), "+
		"with our judge on the raw samples and on batch means, and print their table only")
	cfg := judge.DefaultConfig()
	fs.Float64Var(&cfg.Confidence, "confidence", cfg.Confidence, "our judge's confidence (1 - α)")
	fs.Float64Var(&cfg.PriorScale, "prior", cfg.PriorScale, "our judge's mixture prior scale")
	fs.Float64Var(&cfg.SpendingPower, "spending", cfg.SpendingPower, "our judge's α-spending power ρ (α·t^ρ)")
	fs.Float64Var(&cfg.OverrunShare, "overrun-share", cfg.OverrunShare, "share of α our judge keeps for looks beyond the plan")
	fs.BoolVar(&cfg.NullAtTolerance, "null-at-tolerance", cfg.NullAtTolerance, "our judge tests change <= tolerance instead of <= 0")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	if opts.Sizes, err = parseSizes(*sizes); err != nil {
		fmt.Fprintf(stderr, "judgebench: %v\n", err)
		return 2
	}
	ours, err := judge.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "judgebench: %v\n", err)
		return 2
	}
	judges := []sim.Judge{sim.Ours{J: ours}, sim.Ours{J: ours, Fallback: true},
		sim.NewKayenta(), sim.MeanRule{}, sim.NewKayentaBonferroni()}
	if *overlap {
		return runOverlap(ctx, opts, ours, stdout, stderr)
	}
	var scenarios []sim.Scenario
	for _, sc := range sim.Scenarios() {
		if strings.Contains(sc.Name, *only) {
			scenarios = append(scenarios, sc)
		}
	}
	res, err := sim.Run(ctx, opts, scenarios, judges, sim.NewBound())
	if err != nil {
		fmt.Fprintf(stderr, "judgebench: %v\n", err)
		return 1
	}
	for _, peeking := range []bool{true, false} {
		if err := res.WriteMarkdown(stdout, peeking); err != nil {
			fmt.Fprintf(stderr, "judgebench: %v\n", err)
			return 1
		}
	}
	if err := res.WriteBoundMarkdown(stdout); err != nil {
		fmt.Fprintf(stderr, "judgebench: %v\n", err)
		return 1
	}
	failed := 0
	for _, c := range res.Targets() {
		fmt.Fprintln(stdout, c)
		if !c.OK {
			failed++
		}
	}
	fmt.Fprintln(stdout)
	for _, line := range res.BoundSummary() {
		fmt.Fprintln(stdout, line)
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "\n%d target checks missed\n", failed)
		return 1
	}
	return 0
}

// runOverlap prints the rollback rates of the overlapping A/A scenarios.
func runOverlap(ctx context.Context, opts sim.Options, ours *judge.Judge, stdout, stderr io.Writer) int {
	judges := []sim.Judge{sim.Ours{J: ours}, sim.Batched{Judge: sim.Ours{J: ours}}, sim.NewKayenta()}
	res, err := sim.Run(ctx, opts, sim.OverlapScenarios(), judges)
	if err == nil {
		err = res.WriteMarkdown(stdout, true)
	}
	if err != nil {
		fmt.Fprintf(stderr, "judgebench: %v\n", err)
		return 1
	}
	return 0
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			return nil, fmt.Errorf("sizes %q: want integers >= 2", s)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}
