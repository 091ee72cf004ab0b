package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/modelgate/modelgate/pkg/config"
	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
	"github.com/modelgate/modelgate/pkg/report"
)

// checkFlags are the flags of every command that checks a repository.
type checkFlags struct {
	manifests string
	baseRef   string
	// policies, when set, are evaluated too (validate); lineage and
	// inventory need only the graph.
	policies *policyFlags
}

func (c *checkFlags) register(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&c.manifests, "manifests", "", "glob of manifest files, relative to DIR (default \"models/**/model.{yaml,yml,json}\")")
	fs.StringVar(&c.baseRef, "base-ref", "", "git revision to compare with (e.g. origin/main): fills the change of each model")
}

// options joins the flags with the repository's .github/modelgate.yml;
// flags win.
func (c *checkFlags) options(dir string, cfg *config.Config) gate.Options {
	opts := gate.Options{Root: dir, Glob: c.manifests, BaseRef: c.baseRef}
	if opts.Glob == "" {
		opts.Glob = cfg.Manifests
	}
	if c.policies != nil {
		opts.Policy = c.policies.withConfig(dir, cfg)
	}
	return opts
}

// run checks the repository for a command; ok is false, with the reason
// printed, when the check could not run.
func (c *checkFlags) run(ctx context.Context, command, dir string, stderr io.Writer) (res *gate.Result, cfg *config.Config, ok bool) {
	cfg, err := config.Load(dir)
	if err != nil {
		fmt.Fprintf(stderr, "action %s: %v\n", command, err)
		return nil, nil, false
	}
	res, err = gate.Run(ctx, c.options(dir, cfg))
	if err != nil {
		fmt.Fprintf(stderr, "action %s: %v\n", command, err)
		return nil, nil, false
	}
	return res, cfg, true
}

// failFlags choose what fails validate (exit 1): --fail-on, or conftest's
// --fail-on-warn and --no-fail.
type failFlags struct {
	failOn     string
	failOnWarn bool
	noFail     bool
}

func (f *failFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.failOn, "fail-on", "", "what fails the check: error, warning or never (default: the fail-on of .github/modelgate.yml, else error)")
	fs.BoolVar(&f.failOnWarn, "fail-on-warn", false, "exit 1 on warnings too (conftest's flag; --fail-on warning)")
	fs.BoolVar(&f.noFail, "no-fail", false, "exit 0 even when the check fails (conftest's flag; --fail-on never)")
}

// threshold is the severity that fails the check, "" for none: --no-fail
// wins over --fail-on-warn, which wins over --fail-on, which wins over the
// repository's configuration.
func (f failFlags) threshold(cfg *config.Config) (finding.Severity, error) {
	switch {
	case f.noFail:
		return "", nil
	case f.failOnWarn:
		return finding.Warning, nil
	}
	return failThreshold(orDefault(f.failOn, cfg.FailOn))
}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	var check checkFlags
	check.register(fs)
	check.policies = &policyFlags{print: stderr}
	check.policies.register(fs)
	var fail failFlags
	fail.register(fs)
	format := fs.String("format", "text", "output format: "+strings.Join(report.Formats(), ", ")+" (markdown: the job summary; github: workflow annotations)")
	dir, err := parse(fs, args)
	if err != nil {
		return usageError(err, stderr)
	}
	if _, err := failThreshold(fail.failOn); err != nil {
		fmt.Fprintf(stderr, "action validate: --%v\n", err)
		return exitUsage
	}
	writer, err := report.Get(*format)
	if err != nil {
		fmt.Fprintf(stderr, "action validate: %v\n", err)
		return exitUsage
	}
	res, cfg, ok := check.run(ctx, "validate", dir, stderr)
	if !ok {
		return exitUsage
	}
	threshold, err := fail.threshold(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "action validate: %v\n", err)
		return exitUsage
	}
	rep := newReport(res, threshold)
	if *format == "github" || *format == "sarif" {
		// Read against the workspace: the files are named from it.
		rep.Findings = withPrefix(res.Findings, repoPrefix(dir, "."))
	}
	if err := writer.Write(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "action validate: write report: %v\n", err)
		return exitUsage
	}
	if !rep.Passed() {
		return exitFindings
	}
	return exitOK
}

// newReport is the report of a check that fails at threshold ("" never).
func newReport(res *gate.Result, threshold finding.Severity) *report.Report {
	return &report.Report{
		Result: res, FailOn: threshold, NoFail: threshold == "",
		Tool: report.Tool{Name: "modelgate", Version: toolVersion(), InformationURI: "https://github.com/modelgate/modelgate"},
	}
}
