package main

import (
	"flag"
	"io"
	"path/filepath"
	"strings"

	"github.com/modelgate/modelgate/pkg/config"
	"github.com/modelgate/modelgate/pkg/governance"
)

// policyFlags choose the governance policies a check evaluates.
type policyFlags struct {
	dirs          stringList
	data          stringList
	namespaces    stringList
	allNamespaces bool
	noDefault     bool
	trace         bool
	// print receives the policies' print() output, trace their traces
	// (with --trace): the command's standard error.
	print io.Writer
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.Var(&p.dirs, "policy", "directory (or .rego file) of Rego policies; repeatable")
	fs.Var(&p.data, "data", "JSON or YAML data file (or directory) for the policies, merged over the defaults; repeatable")
	fs.Var(&p.namespaces, "namespace", "package of the user's policies to evaluate (default \"main\"); repeatable")
	fs.BoolVar(&p.allNamespaces, "all-namespaces", false, "evaluate every package that has deny, violation or warn rules")
	fs.BoolVar(&p.noDefault, "no-default-policy", false, "leave out modelgate's default policy bundle")
	fs.BoolVar(&p.trace, "trace", false, "write the trace of each manifest's policy evaluation to standard error")
}

// options returns the policies to evaluate.
func (p *policyFlags) options() *governance.Options {
	opts := &governance.Options{
		DefaultBundle: !p.noDefault,
		PolicyDirs:    p.dirs,
		DataFiles:     p.data,
		Namespaces:    p.namespaces,
		AllNamespaces: p.allNamespaces,
		Print:         p.print,
	}
	if p.trace {
		opts.Trace = p.print
	}
	return opts
}

// withConfig joins the policies of the repository's configuration
// (relative to its root) with those of the flags or inputs (relative to the
// working directory).
func (p *policyFlags) withConfig(root string, cfg *config.Config) *governance.Options {
	opts := p.options()
	opts.DefaultBundle = opts.DefaultBundle && cfg.Policy.UsesDefaultBundle()
	for _, d := range cfg.Policy.Dirs {
		opts.PolicyDirs = append(opts.PolicyDirs, filepath.Join(root, d))
	}
	for _, d := range cfg.Policy.Data {
		opts.DataFiles = append(opts.DataFiles, filepath.Join(root, d))
	}
	opts.Namespaces = append(opts.Namespaces, cfg.Policy.Namespaces...)
	opts.AllNamespaces = opts.AllNamespaces || cfg.Policy.AllNamespaces
	return opts
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
