package main

import (
	"context"
	"fmt"
	"io"
)

func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "bot history: not built yet")
	return 2
}
