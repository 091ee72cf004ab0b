package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/modelgate/modelgate/pkg/lineage"
	"github.com/modelgate/modelgate/pkg/report"
)

func runLineage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lineage", stderr)
	var check checkFlags
	check.register(fs)
	format := fs.String("format", "mermaid", "output format: mermaid or dot")
	only := fs.String("model", "", "comma-separated name@version ids: draw only these, their ancestors and descendants")
	dir, err := parse(fs, args)
	if err != nil {
		return usageError(err, stderr)
	}
	if *format != "mermaid" && *format != "dot" {
		fmt.Fprintf(stderr, "action lineage: unknown format %q (want mermaid or dot)\n", *format)
		return exitUsage
	}
	res, _, ok := check.run(ctx, "lineage", dir, stderr)
	if !ok {
		return exitUsage
	}
	view := lineage.View{Status: make(map[string]lineage.Status)}
	status := report.ModelStatus(res.Findings)
	for _, id := range res.Graph.IDs() {
		view.Status[id] = status(id)
	}
	if *only != "" {
		view.Only = strings.Split(*only, ",")
		for _, id := range view.Only {
			if res.Graph.Node(id) == nil {
				fmt.Fprintf(stderr, "action lineage: no model version %q in %s\n", id, dir)
				return exitUsage
			}
		}
	}
	draw := res.Graph.Mermaid
	if *format == "dot" {
		draw = res.Graph.DOT
	}
	if err := draw(stdout, view); err != nil {
		fmt.Fprintf(stderr, "action lineage: write graph: %v\n", err)
		return exitUsage
	}
	return exitOK
}
