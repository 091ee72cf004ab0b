// Package governance evaluates model manifests against sandboxed Rego
// policies (conftest conventions, OPA v1) and turns the results into findings.
package governance

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown/print"
)

// DefaultTimeout bounds the evaluation of one document when Options.Timeout
// is zero. Real policies take well under a millisecond per manifest.
const DefaultTimeout = 2 * time.Second

// DefaultNamespace is the package conftest evaluates when none is named.
const DefaultNamespace = "main"

// AuthzNamespace holds the ChatOps authorization rules. Its input is a
// command, not a manifest, so Evaluate never runs it.
const AuthzNamespace = "modelgate.authz"

// Options says which policies and data to load and how to evaluate them.
type Options struct {
	// DefaultBundle adds the embedded modelgate.* policies and their data.
	DefaultBundle bool
	// PolicyDirs are directories (or single .rego files) of user policies.
	// Rego files are loaded recursively, *_test.rego excepted; files named
	// data.json or data.yaml are loaded as data at their directory's path,
	// as in an OPA bundle.
	PolicyDirs []string
	// DataFiles are JSON or YAML files (or directories of them) merged over
	// the default data, later files winning, objects merged key by key.
	DataFiles []string
	// Namespaces are the user packages to evaluate; "main" when empty.
	Namespaces []string
	// AllNamespaces evaluates every package that has deny, violation or
	// warn rules (except modelgate.authz).
	AllNamespaces bool
	// Timeout bounds the evaluation of one document; DefaultTimeout when 0.
	Timeout time.Duration
	// Print receives the output of print() calls in policies; nil drops it.
	Print io.Writer
	// Trace, when set, receives the trace of every document's evaluation,
	// document by document (conftest's --trace).
	Trace io.Writer
	// Repository is the only directory whose files parse_config_file and
	// parse_combined_config_files may read; "" refuses them all.
	Repository string
	// Alias names the files of a directory (the key) as those of another
	// (the value): the policies of a base commit, read from an export, are
	// reported, and resolve relative paths, as the repository's own files.
	Alias map[string]string
}

// Locator maps a dotted field path of a manifest ("spec.metrics.f1",
// "spec.rollout.stages[0].traffic") to its 1-based line and column.
type Locator interface {
	Locate(path string) (line, column int, ok bool)
}

// Document is one manifest ready for evaluation.
type Document struct {
	// File is the manifest's path relative to the repository root.
	File string
	// Model is "name@version".
	Model string
	// Input is the policy's input: the parsed manifest document, exactly
	// as conftest gives it (DESIGN.md, "Policy input"). Values are
	// JSON-like: maps, slices, strings, bools, nil and numbers (float64,
	// int64, int, json.Number).
	Input any
	// Context is modelgate's context of the manifest, which policies read
	// as data.modelgate.context: file, manifest, lineage, graph, base,
	// change, pull_request and now. Nil for none: a caller may leave it
	// out when the policies never read it (Engine.ReadsContext).
	Context map[string]any
	// Now is the time of the run, which time.now_ns() gives the policies;
	// zero means the context's now.
	Now time.Time
	// Path is the manifest's path as the user named it (the repository's
	// directory joined with File); data.conftest.file gives policies its
	// base name and absolute directory, as conftest does. Empty: File.
	Path string
	// Locator positions findings; nil places them all on line 1.
	Locator Locator
}

// Engine holds compiled policies and data. It is safe for concurrent use.
type Engine struct {
	compiler *ast.Compiler
	store    storage.Store
	data     dataCache
	seeds    *seeds
	caches   sync.Pool // of *ruleCache
	timeout  time.Duration
	print    print.Hook
	files    files
	trace    io.Writer
	rules    []*rule
	// readsContext says whether any policy may read data.modelgate.context.
	readsContext bool
	// full evaluates every selected rule in one query; singles evaluate
	// them one by one, when a document must be re-evaluated rule by rule.
	full    *plan
	mu      sync.Mutex
	singles map[*rule]*plan
	authz   *plan // nil without modelgate.authz deny rules
}

// repositoryRoot is the absolute path of the repository the file built-ins
// read, "" for none.
func repositoryRoot(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("repository %s: %w", dir, err)
	}
	return abs, nil
}

// Load reads, parses and compiles the policies and data once.
func Load(ctx context.Context, opts Options) (*Engine, error) {
	b, err := loadSources(sourceOptions{defaultBundle: opts.DefaultBundle, dirs: opts.PolicyDirs, data: opts.DataFiles, alias: opts.Alias})
	if err != nil {
		return nil, err
	}
	if err := b.checkReserved(); err != nil {
		return nil, err
	}
	compiler, err := compile(b.modules, opts.Print != nil)
	if err != nil {
		return nil, err
	}
	repo, err := repositoryRoot(opts.Repository)
	if err != nil {
		return nil, err
	}
	data, err := dataValue(b.data)
	if err != nil {
		return nil, fmt.Errorf("load data: %w", err)
	}
	e := &Engine{compiler: compiler, store: inmem.NewFromASTObject(data), data: dataCache{data}, timeout: opts.Timeout, files: files{root: repo}, trace: opts.Trace}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	if opts.Print != nil {
		e.print = newPrintHook(opts.Print)
	}
	namespaces, err := selectNamespaces(compiler, b.defaultPackages, opts)
	if err != nil {
		return nil, err
	}
	e.rules = discoverRules(compiler, namespaces)
	e.readsContext = readsContext(compiler)
	e.seeds = e.seedRules(ctx)
	e.caches.New = func() any { return newRuleCache(e.seeds) }
	if e.full, err = e.prepare(ctx, e.rules); err != nil {
		return nil, err
	}
	if e.authz, err = e.prepareAuthz(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// ReadsContext reports whether any policy may read data.modelgate.context;
// when none does, a caller can spare building the context of every
// document. It errs towards true: a policy that reads data, data.modelgate
// or a computed path under data might read it.
func (e *Engine) ReadsContext() bool { return e.readsContext }

// Rules lists the ids of the rules Evaluate runs, e.g.
// "modelgate.lineage.deny_cycle", in evaluation order.
func (e *Engine) Rules() []string {
	ids := make([]string, len(e.rules))
	for i, r := range e.rules {
		ids[i] = r.id
	}
	return ids
}

// preparedQuery builds a prepared query on the engine's compiler and store.
func (e *Engine) preparedQuery(ctx context.Context, query string) (rego.PreparedEvalQuery, error) {
	opts := []func(*rego.Rego){
		rego.Compiler(e.compiler),
		rego.Store(e.store),
		rego.Query(query),
		rego.UnsafeBuiltins(unsafeBuiltins()),
	}
	opts = append(opts, e.files.functions()...)
	if e.print != nil {
		opts = append(opts, rego.EnablePrintStatements(true), rego.PrintHook(e.print))
	}
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return pq, fmt.Errorf("prepare query %q: %w", query, err)
	}
	return pq, nil
}

// newStore serves the merged data as OPA values, converted once.
func newStore(data map[string]any) (storage.Store, error) {
	obj, err := dataValue(data)
	if err != nil {
		return nil, fmt.Errorf("load data: %w", err)
	}
	return inmem.NewFromASTObject(obj), nil
}
