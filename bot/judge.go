package main

import (
	"context"
	"fmt"
	"io"
)

func runJudge(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "bot judge: not built yet")
	return 2
}
