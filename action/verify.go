package main

import (
	"context"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/pkg/governance"
)

// runVerify runs the Rego unit tests of a policy directory, or of the
// default bundle when none is named: the counterpart of `conftest verify`.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", stderr)
	var data stringList
	fs.Var(&data, "data", "JSON or YAML data file (or directory) for the policies; repeatable")
	filter := fs.String("run", "", "run only the tests whose name matches this regular expression")
	verbose := fs.Bool("v", false, "list the tests that pass too")
	dir, err := parse(fs, args)
	if err != nil {
		return usageError(err, stderr)
	}
	opts := governance.VerifyOptions{DataFiles: data, Run: *filter, Repository: "."}
	if !explicitDir(args) {
		opts.DefaultBundle = true
	} else {
		opts.PolicyDirs = []string{dir}
	}
	report, err := governance.Verify(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "action verify: %v\n", err)
		return exitUsage
	}
	if err := report.Write(stdout, *verbose); err != nil {
		fmt.Fprintf(stderr, "action verify: %v\n", err)
		return exitUsage
	}
	if !report.OK() {
		return exitFindings
	}
	return exitOK
}

// explicitDir says whether the arguments name a directory: parse returns
// "." for none, which for verify means the default bundle.
func explicitDir(args []string) bool {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-data" || a == "--data" || a == "-run" || a == "--run":
			i++ // the flag's value
		case len(a) > 0 && a[0] == '-':
		default:
			return true
		}
	}
	return false
}
