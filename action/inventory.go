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
	dir, err := parse(fs, args)
	if err != nil {
		return usageError(err, stderr)
	}
	write, ok := map[string]func(io.Writer, []inventory.Row) error{"markdown": inventory.Markdown, "json": inventory.JSON}[*format]
	if !ok {
		fmt.Fprintf(stderr, "action inventory: unknown format %q (want markdown or json)\n", *format)
		return exitUsage
	}
	res, ok := check.run(ctx, "inventory", dir, stderr)
	if !ok {
		return exitUsage
	}
	added, err := addedTimes(ctx, dir)
	if err != nil {
		fmt.Fprintf(stderr, "action inventory: ages unknown: %v\n", err)
	}
	if err := write(stdout, inventory.Build(res, added)); err != nil {
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
