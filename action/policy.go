package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
	"github.com/modelgate/modelgate/pkg/governance"
	"github.com/modelgate/modelgate/pkg/manifest"
)

// policyFlags choose the governance policies a check evaluates.
type policyFlags struct {
	dirs          stringList
	data          stringList
	namespaces    stringList
	allNamespaces bool
	noDefault     bool
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.Var(&p.dirs, "policy", "directory (or .rego file) of Rego policies; repeatable")
	fs.Var(&p.data, "data", "JSON or YAML data file (or directory) for the policies, merged over the defaults; repeatable")
	fs.Var(&p.namespaces, "namespace", "package of the user's policies to evaluate (default \"main\"); repeatable")
	fs.BoolVar(&p.allNamespaces, "all-namespaces", false, "evaluate every package that has deny, violation or warn rules")
	fs.BoolVar(&p.noDefault, "no-default-policy", false, "leave out modelgate's default policy bundle")
}

func (p *policyFlags) options() governance.Options {
	return governance.Options{
		DefaultBundle: !p.noDefault,
		PolicyDirs:    p.dirs,
		DataFiles:     p.data,
		Namespaces:    p.namespaces,
		AllNamespaces: p.allNamespaces,
	}
}

// evaluate runs the policies on every model version of the check (the
// deleted ones too) and adds their findings to the result. pr is nil
// outside a pull request.
func (p *policyFlags) evaluate(ctx context.Context, res *gate.Result, pr *gate.PullRequest) error {
	engine, err := governance.Load(ctx, p.options())
	if err != nil {
		return fmt.Errorf("policies: %w", err)
	}
	ids := append(res.Graph.IDs(), res.Deleted()...)
	docs := make([]governance.Document, 0, len(ids))
	for _, id := range ids {
		m := versionOf(res, id)
		docs = append(docs, governance.Document{File: m.File, Model: id, Input: res.PolicyInput(id, pr), Locator: m.Doc})
	}
	fs, err := engine.Evaluate(ctx, docs)
	if err != nil {
		return fmt.Errorf("policies: %w", err)
	}
	res.Findings = append(res.Findings, fs...)
	finding.Sort(res.Findings)
	return nil
}

// versionOf finds a version in the head, or else (deleted) in the base.
func versionOf(res *gate.Result, id string) *manifest.Manifest {
	if n := res.Graph.Node(id); n != nil {
		return n.Manifest
	}
	return res.Base.Graph.Node(id).Manifest
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
