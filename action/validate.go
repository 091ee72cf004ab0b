package main

import (
	"context"
	"fmt"
	"io"

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
func (c *checkFlags) run(ctx context.Context, command, dir string, stderr io.Writer) (res *gate.Result, ok bool) {
	cfg, err := config.Load(dir)
	if err != nil {
		fmt.Fprintf(stderr, "action %s: %v\n", command, err)
		return nil, false
	}
	res, err = gate.Run(ctx, c.options(dir, cfg))
	if err != nil {
		fmt.Fprintf(stderr, "action %s: %v\n", command, err)
		return nil, false
	}
	return res, true
}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	var check checkFlags
	check.register(fs)
	check.policies = &policyFlags{}
	check.policies.register(fs)
	format := fs.String("format", "text", "output format: text, json, markdown (the job summary) or sarif")
	dir, err := parse(fs, args)
	if err != nil {
		return usageError(err, stderr)
	}
	write, ok := map[string]func(io.Writer, *gate.Result) error{"text": report.Text, "json": report.JSON, "markdown": writeMarkdown, "sarif": writeSARIF}[*format]
	if !ok {
		fmt.Fprintf(stderr, "action validate: unknown format %q (want text, json, markdown or sarif)\n", *format)
		return exitUsage
	}
	res, ok := check.run(ctx, "validate", dir, stderr)
	if !ok {
		return exitUsage
	}
	if err := write(stdout, res); err != nil {
		fmt.Fprintf(stderr, "action validate: write report: %v\n", err)
		return exitUsage
	}
	if res.Failed(finding.Error) {
		return exitFindings
	}
	return exitOK
}

func writeMarkdown(w io.Writer, r *gate.Result) error {
	_, err := io.WriteString(w, report.JobSummary(r, report.SummaryOptions{}))
	return err
}

func writeSARIF(w io.Writer, r *gate.Result) error {
	return report.SARIF(w, r.Findings, report.SARIFOptions{Version: version, InformationURI: "https://github.com/modelgate/modelgate"})
}
