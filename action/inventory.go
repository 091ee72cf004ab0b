package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/modelgate/modelgate/pkg/gitrepo"
	"github.com/modelgate/modelgate/pkg/inventory"
)

func runInventory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inventory", stderr)
	var check checkFlags
	check.register(fs)
	format := fs.String("format", "markdown", "output format: markdown or json")
	var liveOpts liveFlags
	liveOpts.register(fs)
	dir, err := parse(fs, args)
	if err != nil {
		return usageError(err, stderr)
	}
	if err := liveOpts.check(); err != nil {
		return usageError(err, stderr)
	}
	write, ok := map[string]func(io.Writer, []inventory.Row) error{"markdown": inventory.Markdown, "json": inventory.JSON}[*format]
	if !ok {
		fmt.Fprintf(stderr, "action inventory: unknown format %q (want markdown or json)\n", *format)
		return exitUsage
	}
	res, _, ok := check.run(ctx, "inventory", dir, stderr)
	if !ok {
		return exitUsage
	}
	added, err := addedTimes(ctx, dir)
	if err != nil {
		fmt.Fprintf(stderr, "action inventory: ages unknown: %v\n", err)
	}
	rows := inventory.Build(res, added)
	if liveOpts.on {
		snap, err := liveOpts.lookup(ctx, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "action inventory --live: %v\n", err)
			return exitUsage
		}
		attachLive(rows, snap, stderr)
	}
	if err := write(stdout, rows); err != nil {
		fmt.Fprintf(stderr, "action inventory: write: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// addedTimes reads when each file was added from git; outside a git work
// tree there are no ages, and that is not an error.
func addedTimes(ctx context.Context, dir string) (map[string]time.Time, error) {
	repo, err := gitrepo.Open(ctx, dir)
	if errors.Is(err, gitrepo.ErrNotRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return repo.Added(ctx)
}
