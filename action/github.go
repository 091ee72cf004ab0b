package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/modelgate/modelgate/pkg/config"
	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
	"github.com/modelgate/modelgate/pkg/gitrepo"
	"github.com/modelgate/modelgate/pkg/governance"
	"github.com/modelgate/modelgate/pkg/report"
)

// inputs are the action's inputs, as action.yml declares them.
type inputs struct {
	path        string
	manifests   string
	failOn      string
	changedOnly bool
	baseRef     string
	sarifFile   string
	jsonFile    string
	policy      policyFlags
	// trustPRPolicy obeys the pull request's own policies and
	// configuration; only for repositories whose policy directory is
	// protected by CODEOWNERS and required reviews.
	trustPRPolicy bool
}

func readInputs(a *githubactions.Action) (inputs, error) {
	in := inputs{
		path:      orDefault(a.GetInput("path"), "."),
		manifests: a.GetInput("manifests"),
		baseRef:   a.GetInput("base-ref"),
		sarifFile: a.GetInput("sarif-file"),
		jsonFile:  orDefault(a.GetInput("json-file"), "modelgate-report.json"),
		failOn:    strings.TrimSpace(a.GetInput("fail-on")),
		policy: policyFlags{
			dirs:       list(a.GetInput("policy")),
			data:       list(a.GetInput("data")),
			namespaces: list(a.GetInput("namespace")),
		},
	}
	if _, err := failThreshold(in.failOn); err != nil {
		return in, fmt.Errorf("input %w", err)
	}
	for name, dst := range map[string]*bool{"changed-only": &in.changedOnly, "trust-pr-policy": &in.trustPRPolicy} {
		switch v := orDefault(a.GetInput(name), "false"); v {
		case "true", "false":
			*dst = v == "true"
		default:
			return in, fmt.Errorf("input %s: %q is not true or false", name, v)
		}
	}
	return in, nil
}

// list splits an input holding several values, one per line or separated
// by commas.
func list(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// failThreshold maps fail-on to the severity that fails the step; "" for
// never. The default is error.
func failThreshold(v string) (finding.Severity, error) {
	switch v {
	case "", "error":
		return finding.Error, nil
	case "warning":
		return finding.Warning, nil
	case "never":
		return "", nil
	}
	return "", fmt.Errorf("fail-on: %q is not one of error, warning, never", v)
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

// runGitHub is the action's entry point inside GitHub Actions: it checks the
// repository, annotates the pull request, writes the job summary, the SARIF
// and JSON reports and the outputs, and fails the step as fail-on says.
func runGitHub(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := githubactions.New(githubactions.WithWriter(stdout))
	if len(args) > 0 {
		a.Errorf("action github takes no arguments (got %q); configure it with inputs", args)
		return exitUsage
	}
	in, err := readInputs(a)
	if err != nil {
		a.Errorf("%v", err)
		return exitUsage
	}
	in.policy.print = stderr
	gh, err := a.Context()
	if err != nil {
		a.Errorf("read the GitHub context: %v", err)
		return exitUsage
	}
	pr, err := readPullRequest(gh)
	if err != nil {
		a.Errorf("read the event: %v", err)
		return exitUsage
	}
	rules, err := loadRules(ctx, in, gh, pr)
	if err != nil {
		a.Errorf("%v", err)
		return exitUsage
	}
	defer rules.close()
	threshold, err := failThreshold(orDefault(in.failOn, rules.cfg.FailOn))
	if err != nil {
		a.Errorf("%v", err)
		return exitUsage
	}
	base, baseName := baseRef(in, gh, pr)
	res, err := gate.Run(ctx, gate.Options{
		Root: in.path, Glob: orDefault(in.manifests, rules.cfg.Manifests), BaseRef: base, BaseName: baseName,
		Policy: rules.policy, PullRequest: pr.forPolicies(),
	})
	if err != nil {
		a.Errorf("modelgate could not run: %v", err)
		return exitUsage
	}
	if rules.trusted != nil {
		res.Findings = append(res.Findings, rules.trusted.Findings()...)
		finding.Sort(res.Findings)
	}
	fs := res.Findings
	if in.changedOnly {
		fs = onlyChanged(ctx, res, rules.trusted)
	}
	rep := newReport(res, threshold)
	rep.Findings = withPrefix(fs, repoPrefix(in.path, gh.Workspace))
	rep.BlobURL = blobURL(gh, pr)
	if rules.trusted != nil {
		rc := rules.trusted.RuleChanges(in.path)
		rep.RuleChanges = &rc
	}
	if err := writeReports(a, stdout, rep, in); err != nil {
		a.Errorf("%v", err)
		return exitUsage
	}
	if !rep.Passed() {
		fmt.Fprintf(stderr, "modelgate failed: %s (fail-on: %s)\n", rep.Counts(), threshold)
		return exitFindings
	}
	return exitOK
}

// rules are the configuration and policies a run obeys.
type rules struct {
	cfg     *config.Config
	policy  *governance.Options
	trusted *gate.Trusted // nil when the working tree's rules are used
}

func (r rules) close() {
	if r.trusted != nil {
		r.trusted.Close()
	}
}

// loadRules reads the configuration and policies. On a pull request they
// come from its base commit, unless trust-pr-policy is true: a pull request
// cannot change the rules that judge it. Elsewhere (a push) the working tree
// is used.
func loadRules(ctx context.Context, in inputs, gh *githubactions.GitHubContext, pr *pullRequest) (rules, error) {
	if pr == nil || in.trustPRPolicy {
		cfg, err := config.Load(in.path)
		if err != nil {
			return rules{}, err
		}
		return rules{cfg: cfg, policy: in.policy.withConfig(in.path, cfg)}, nil
	}
	base, _ := baseRef(in, gh, pr)
	if base == "" {
		return rules{}, fmt.Errorf("no base revision to read the policies from: set base-ref, or trust-pr-policy: true")
	}
	extra, err := relativeTo(in.path, append(slices.Clone(in.policy.dirs), in.policy.data...))
	if err != nil {
		return rules{}, err
	}
	trusted, err := gate.LoadTrusted(ctx, in.path, base, extra)
	if err != nil {
		return rules{}, err
	}
	// The inputs' policies too are read as the base has them.
	trustedInputs := in.policy
	trustedInputs.dirs, trustedInputs.data = nil, nil
	for i, rel := range extra {
		if i < len(in.policy.dirs) {
			trustedInputs.dirs = append(trustedInputs.dirs, trusted.Path(rel))
		} else {
			trustedInputs.data = append(trustedInputs.data, trusted.Path(rel))
		}
	}
	policy := trustedInputs.withConfig(trusted.Dir, trusted.Config)
	policy.Alias = map[string]string{trusted.Dir: in.path}
	return rules{cfg: trusted.Config, policy: policy, trusted: trusted}, nil
}

// relativeTo makes paths (relative to the working directory) relative to
// root, refusing any outside it: only the repository's own files can be
// read from its base commit.
func relativeTo(root string, paths []string) ([]string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(absRoot, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("policy path %s is outside the repository %s", p, root)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out, nil
}

// pullRequest is what the action reads of the event's pull_request, the
// fields of GitHub's webhook payload, decoded once.
type pullRequest struct {
	Number int `json:"number"`
	User   struct {
		Login string `json:"login"`
	} `json:"user"`
	Labels []struct {
		Name string `json:"name"`
	} `json:"labels"`
	Base struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	} `json:"base"`
	Head struct {
		SHA string `json:"sha"`
	} `json:"head"`
}

// readPullRequest decodes the event's pull_request; nil when the event has
// none (a push).
func readPullRequest(gh *githubactions.GitHubContext) (*pullRequest, error) {
	raw, ok := gh.Event["pull_request"]
	if !ok || raw == nil {
		return nil, nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("pull_request: %w", err)
	}
	var pr pullRequest
	if err := json.Unmarshal(data, &pr); err != nil {
		return nil, fmt.Errorf("pull_request: %w", err)
	}
	return &pr, nil
}

// forPolicies is what policies learn of the pull request. Approvals are not
// in the event; policies see them as unknown (null).
func (pr *pullRequest) forPolicies() *gate.PullRequest {
	if pr == nil {
		return nil
	}
	out := &gate.PullRequest{Number: pr.Number, Author: pr.User.Login, Approvals: -1}
	for _, l := range pr.Labels {
		if l.Name != "" {
			out.Labels = append(out.Labels, l.Name)
		}
	}
	return out
}

// baseRef is what changes are measured against, and how reports name it:
// the input, else the base commit of the pull request in the event (named
// by its branch), else the base branch GitHub names, else nothing.
func baseRef(in inputs, gh *githubactions.GitHubContext, pr *pullRequest) (ref, name string) {
	switch {
	case in.baseRef != "":
		return in.baseRef, in.baseRef
	case pr != nil && pr.Base.SHA != "":
		return pr.Base.SHA, pr.Base.Ref
	case gh.BaseRef != "":
		return "origin/" + gh.BaseRef, gh.BaseRef
	}
	return "", ""
}

// onlyChanged keeps the findings about models the change touches and their
// descendants, and about files it touches; without a base, all of them. The
// files are those the trusted rules' loading listed, or else listed here.
func onlyChanged(ctx context.Context, res *gate.Result, trusted *gate.Trusted) []finding.Finding {
	if res.Base == nil {
		return res.Findings
	}
	impact := res.Graph.Impact(res.Changed())
	files := map[string]bool{}
	for _, f := range changedFiles(ctx, res, trusted) {
		files[f] = true
	}
	var out []finding.Finding
	for _, f := range res.Findings {
		if f.File == "" || files[f.File] || (f.Model != "" && slices.Contains(impact, f.Model)) {
			out = append(out, f)
		}
	}
	return out
}

// changedFiles lists the files the change touches: as the trusted rules
// listed them when there are any, else with git, once.
func changedFiles(ctx context.Context, res *gate.Result, trusted *gate.Trusted) []string {
	if trusted != nil {
		return trusted.Files
	}
	repo, err := gitrepo.Open(ctx, res.Root)
	if err != nil {
		return nil
	}
	files, err := repo.ChangedFiles(ctx, res.Base.Commit)
	if err != nil {
		return nil
	}
	return files
}

// repoPrefix is the checked directory's path inside the workspace, which
// GitHub needs in front of file names to place annotations.
func repoPrefix(path, workspace string) string {
	if workspace == "" {
		workspace = "."
	}
	absPath, err1 := filepath.Abs(path)
	absWS, err2 := filepath.Abs(workspace)
	if err1 != nil || err2 != nil {
		return ""
	}
	rel, err := filepath.Rel(absWS, absPath)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return ""
	}
	return filepath.ToSlash(rel) + "/"
}

func withPrefix(fs []finding.Finding, prefix string) []finding.Finding {
	out := slices.Clone(fs)
	if prefix == "" {
		return out
	}
	for i := range out {
		if out[i].File != "" {
			out[i].File = prefix + out[i].File
		}
	}
	return out
}

// writeReports writes the annotations, the job summary, the SARIF and JSON
// files and the outputs, each by its format's writer. A summary that
// cannot be written is reported but does not stop the rest.
func writeReports(a *githubactions.Action, stdout io.Writer, rep *report.Report, in inputs) error {
	if err := write(stdout, "github", rep); err != nil {
		return fmt.Errorf("write annotations: %w", err)
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendFile(path, func(w io.Writer) error { return write(w, "markdown", rep) }); err != nil {
			a.Warningf("could not write the job summary: %v", err)
		}
	}
	if in.sarifFile != "" {
		if err := writeFile(in.sarifFile, func(w io.Writer) error { return write(w, "sarif", rep) }); err != nil {
			return fmt.Errorf("write SARIF: %w", err)
		}
	}
	if err := writeFile(in.jsonFile, func(w io.Writer) error { return write(w, "json", rep) }); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return writeOutputs(rep, in)
}

// write renders a report in a format the report package knows.
func write(w io.Writer, format string, rep *report.Report) error {
	writer, err := report.Get(format)
	if err != nil {
		return err
	}
	return writer.Write(w, rep)
}

func writeOutputs(rep *report.Report, in inputs) error {
	n := rep.Summarize()
	models, err := json.Marshal(nonNil(rep.Result.Changed()))
	if err != nil {
		return err
	}
	path := os.Getenv("GITHUB_OUTPUT")
	for _, kv := range [][2]string{
		{"errors", fmt.Sprint(n.Errors)},
		{"warnings", fmt.Sprint(n.Warnings)},
		{"models", string(models)},
		{"report", in.jsonFile},
	} {
		if err := setOutput(path, kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// blobURL links findings to the files of the commit checked.
func blobURL(gh *githubactions.GitHubContext, pr *pullRequest) string {
	if gh.ServerURL == "" || gh.Repository == "" {
		return ""
	}
	sha := gh.SHA
	if pr != nil && pr.Head.SHA != "" {
		sha = pr.Head.SHA
	}
	if sha == "" {
		return ""
	}
	return strings.TrimSuffix(gh.ServerURL, "/") + "/" + gh.Repository + "/blob/" + sha + "/"
}

func appendFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeFile(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
