package gate

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/cputime"
	"github.com/modelgate/modelgate/internal/gittest"
	"github.com/modelgate/modelgate/internal/repogen"
	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/governance"
	"github.com/modelgate/modelgate/pkg/manifest"
)

func TestRunExample(t *testing.T) {
	res, err := Run(context.Background(), Options{Root: "../../testdata/example"})
	require.NoError(t, err)
	assert.Empty(t, res.Findings)
	assert.Len(t, res.Graph.IDs(), 7)
	assert.False(t, res.Failed(finding.Warning))
}

func TestRunBroken(t *testing.T) {
	res, err := Run(context.Background(), Options{Root: "../../testdata/broken"})
	require.NoError(t, err)
	assert.True(t, res.Failed(finding.Error))
	counts := res.Counts()
	assert.Equal(t, 13, counts[finding.Error])
	for _, f := range res.Findings {
		if f.File == "models/mismatch/1.0.0/lineage.json" {
			assert.Equal(t, "mismatch@1.0.0", f.Model, "lineage findings name their model")
		}
	}
}

// TestRunEmpty: a glob that matches nothing fails the check, naming the
// glob, whether the directory is empty or the glob has a typo.
func TestRunEmpty(t *testing.T) {
	for _, opts := range []Options{
		{Root: t.TempDir()},
		{Root: "../../testdata/example", Glob: "model/**/model.yaml"},
	} {
		res, err := Run(context.Background(), opts)
		require.NoError(t, err)
		require.Len(t, res.Findings, 1)
		f := res.Findings[0]
		assert.Equal(t, "repository/empty", f.Rule)
		assert.Equal(t, finding.Error, f.Severity)
		assert.True(t, res.Failed(finding.Error))
		assert.Contains(t, f.Message, fmt.Sprintf("no manifest matches the glob %q", cmp.Or(opts.Glob, "models/**/model.{yaml,yml,json}")))
	}
}

func TestRunGenerated(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, repogen.Write(dir, 50))
	res, err := Run(context.Background(), Options{Root: dir})
	require.NoError(t, err)
	assert.Empty(t, res.Findings)
	assert.Len(t, res.Graph.IDs(), 50)
}

// generated10k writes one repository of 10,000 manifests for all the
// benchmarks of a run.
func generated10k(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "modelgate-bench-10000")
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return dir
	}
	require.NoError(b, os.RemoveAll(dir))
	require.NoError(b, repogen.Write(dir, 10_000))
	require.NoError(b, os.WriteFile(filepath.Join(dir, "done"), nil, 0o644))
	return dir
}

// BenchmarkCheck10k measures the whole check of 10,000 manifests with
// lineage files, beside its floor: listing the tree, reading and decoding
// the same files with the same decoder on the same number of goroutines,
// and nothing else.
//
// The action's binary runs with GOGC=300 (see action/main.go); run the
// benchmark with GOGC=300 to measure what it does.
func BenchmarkCheck10k(b *testing.B) {
	dir := generated10k(b)
	schemas, err := manifest.CompileSchemas()
	require.NoError(b, err)
	b.Run("floor-read-and-decode", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cputime.Process()
		for b.Loop() {
			decodeAll(b, dir, listFiles(b, dir))
		}
		reportCPU(b, cpu)
	})
	b.Run("load-and-check", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cputime.Process()
		for b.Loop() {
			res, err := Run(context.Background(), Options{Root: dir, Schemas: schemas})
			if err != nil || len(res.Findings) != 0 {
				b.Fatalf("run: %v, %d findings", err, len(res.Findings))
			}
		}
		reportCPU(b, cpu)
	})
}

// reportCPU reports the process CPU time per operation since start: on a
// shared machine it moves less with the neighbours' load than wall time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric((cputime.Process()-start).Seconds()/float64(b.N), "cpu-s/op")
}

// listFiles lists the manifests and lineage files of a generated repository.
func listFiles(b *testing.B, dir string) []string {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (d.Name() == "model.yaml" || d.Name() == "lineage.json") {
			files = append(files, strings.TrimPrefix(path, dir+"/"))
		}
		return err
	})
	require.NoError(b, err)
	return files
}

func decodeAll(b *testing.B, dir string, files []string) {
	var wg sync.WaitGroup
	next := make(chan string)
	for range 4 * runtime.GOMAXPROCS(0) { // as many readers as the repository's
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					b.Error(err)
					continue
				}
				if _, err := manifest.Decode(f, data, manifest.DefaultLimits()); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for _, f := range files {
		next <- f
	}
	close(next)
	wg.Wait()
}

// TestRunWithoutPolicies checks the validator alone (no default bundle, no
// policy of the user's), which skips policy evaluation: the repository is
// checked and no policy finding appears.
func TestRunWithoutPolicies(t *testing.T) {
	res, err := Run(context.Background(), Options{Root: "../../testdata/example", Policy: &governance.Options{}})
	require.NoError(t, err)
	assert.NotEmpty(t, res.Graph.IDs())
	for _, f := range res.Findings {
		assert.NotContains(t, f.Rule, "modelgate.", "a policy finding without policies: %+v", f)
	}
}

// TestPoliciesOfTheManifestAloneRunAsItIsRead holds the evaluation of
// policies that read the manifest alone, done as each manifest is read, to
// the evaluation after the graph that policies reading modelgate's context
// get: the same findings, a duplicate version's left out, a deleted
// version's included.
func TestPoliciesOfTheManifestAloneRunAsItIsRead(t *testing.T) {
	repo := gittest.New(t)
	repo.CopyDir("../../testdata/broken")
	repo.Commit("models")
	repo.Git("checkout", "-q", "-b", "pr")
	src, err := os.ReadFile(filepath.Join(repo.Dir, "models/mismatch/1.0.0/model.yaml"))
	require.NoError(t, err)
	repo.Write("models/mismatch/copy/model.yaml", strings.Replace(string(src), "license:", "license: gpl-3.0 #", 1))
	require.NoError(t, os.RemoveAll(filepath.Join(repo.Dir, "models/ok")))
	repo.Commit("pr")

	bench, err := os.ReadFile("../../testdata/bench/policy/main.rego")
	require.NoError(t, err)
	bench = append(bench, "\nwarn contains sprintf(\"seen %s\", [input.metadata.name]) if true\n"...)
	alone, withContext := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(alone, "main.rego"), bench, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(withContext, "main.rego"), append(bench, `
warn contains "never" if data.modelgate.context.file == "no such file"
`...), 0o644))

	run := func(dir string, early bool) []finding.Finding {
		opts := Options{Root: repo.Dir, BaseRef: "main", Policy: &governance.Options{PolicyDirs: []string{dir}}, Now: time.Now()}
		ev, err := newEvaluation(context.Background(), opts)
		require.NoError(t, err)
		require.Equal(t, early, ev.read != nil, "evaluated as read")
		res, err := Run(context.Background(), opts)
		require.NoError(t, err)
		return res.Findings
	}
	got, want := run(alone, true), run(withContext, false)
	assert.Equal(t, want, got)
	files := map[string]bool{}
	for _, f := range got {
		if strings.HasPrefix(f.Rule, "main.") {
			files[f.File] = true
		}
	}
	assert.True(t, files["models/ok/1.0.0/model.yaml"], "the deleted version is evaluated: %v", files)
	assert.False(t, files["models/mismatch/copy/model.yaml"], "the duplicate is not: %v", files)
}

// TestTracesComeInVersionOrder: with a trace asked for, even policies of
// the manifest alone are evaluated after the graph, so that the traces
// come in the order of the versions.
func TestTracesComeInVersionOrder(t *testing.T) {
	var buf strings.Builder
	opts := Options{Root: "../../testdata/example", Policy: &governance.Options{PolicyDirs: []string{"../../testdata/bench/policy"}, Trace: &buf}}
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	at := -1
	for _, id := range res.Graph.IDs() {
		i := strings.Index(buf.String(), "("+id+"):\n")
		require.Greater(t, i, at, "the trace of %s comes after the one before", id)
		at = i
	}
}
