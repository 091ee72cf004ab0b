// Command govbench measures the governance check as whole processes: the
// modelgate binary with its default bundle, modelgate and conftest running
// the same policy on the same files, and the validator alone, on generated
// repositories of 1,000 to 100,000 manifests (or any sizes). It prints a
// Markdown table of the median wall and CPU time and the peak memory of
// each, the load of the machine while it measured, and how the times grew
// from the first size to the last; with -out it writes the table to a file
// as well: testdata/bench/govbench.md is the one the README shows. The
// default sizes take a quarter of an hour, most of it conftest at 100,000
// manifests.
//
// conftest is handed the repository's models directory, as a user with
// 100,000 files would (a list of that many paths exceeds the system's
// limit on arguments), and told to ignore the lineage files, which the
// policy is not written for. The two same-policy commands run in turn, A B
// A B, and their ratio is the median of the ratios of each pair, so that a
// machine whose speed drifts still compares them fairly.
//
//	go run ./tools/govbench [-runs 3] [-sizes 1000,10000,30000,100000] [-conftest PATH] [-out FILE]
//	go run ./tools/govbench -out testdata/bench/govbench.md  # the README's table
//	go run ./tools/govbench -sizes 1,100,1000   # a quick look
package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/modelgate/modelgate/internal/repogen"
	"github.com/modelgate/modelgate/internal/sysload"
)

func main() {
	runs := flag.Int("runs", 3, "runs of each command; the median is printed")
	sizes := flag.String("sizes", "1000,10000,30000,100000", "repository sizes, in manifests")
	conftest := flag.String("conftest", "conftest", "conftest binary (go install github.com/open-policy-agent/conftest@v0.59.0)")
	out := flag.String("out", "", "also write the table to this file (testdata/bench/govbench.md is the README's)")
	flag.Parse()
	if err := run(context.Background(), *runs, *sizes, *conftest, *out); err != nil {
		fmt.Fprintln(os.Stderr, "govbench:", err)
		os.Exit(1)
	}
}

// conftestIgnore keeps conftest to the manifests when it walks the models
// directory: the policy judges manifests, not lineage files.
const conftestIgnore = `lineage\.json$`

// run measures every size and prints the table as it goes; with a path in
// out, it writes the whole table there at the end.
func run(ctx context.Context, runs int, sizes, conftestBin, out string) error {
	if runs < 1 {
		return fmt.Errorf("runs %d: at least one run is needed", runs)
	}
	ns, err := parseSizes(sizes)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "govbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "modelgate")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./action")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, b)
	}
	policy, err := filepath.Abs("testdata/bench/policy")
	if err != nil {
		return err
	}
	t := table{Runs: runs, Sizes: sizes, Cores: runtime.NumCPU(), GOMAXPROCS: os.Getenv("GOMAXPROCS"), GoVersion: runtime.Version()}
	conftestPath, err := exec.LookPath(conftestBin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "govbench: conftest not found (%v): its column is empty\n", err)
	} else {
		t.Conftest = moduleVersion(conftestPath)
	}
	var text strings.Builder
	w := io.MultiWriter(os.Stdout, &text)
	t.head(w)
	b := bench{work: work, bin: bin, conftest: conftestPath, policy: policy, runs: runs}
	for _, n := range ns {
		r, err := b.row(ctx, n)
		if err != nil {
			return err
		}
		t.Rows = append(t.Rows, r)
		r.write(w)
	}
	t.foot(w)
	if out == "" {
		return nil
	}
	if err := os.WriteFile(out, []byte(text.String()), 0o644); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// parseSizes reads a comma-separated list of positive sizes.
func parseSizes(sizes string) ([]int, error) {
	var ns []int
	for _, field := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return nil, fmt.Errorf("size %q: %w", field, err)
		}
		if n < 1 {
			return nil, fmt.Errorf("size %d: at least one manifest is needed", n)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// moduleVersion is the module and version a Go binary was built from
// (go install writes them into it), or its file name when it says none.
func moduleVersion(path string) string {
	info, err := buildinfo.ReadFile(path)
	if err != nil || info.Main.Path == "" {
		return filepath.Base(path)
	}
	return filepath.Base(info.Main.Path) + " " + info.Main.Version
}

// bench is what every row measures with.
type bench struct {
	work, bin, conftest, policy string
	runs                        int
}

// row generates a repository of n manifests and measures every command on
// it. The repository is removed afterwards: at 100,000 manifests it holds
// 200,000 files.
func (b bench) row(ctx context.Context, n int) (row, error) {
	r := row{Manifests: n}
	dir := filepath.Join(b.work, fmt.Sprintf("repo-%d", n))
	if err := repogen.Write(dir, n); err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	r.LoadBefore = sysload.OneMinute()
	var err error
	if r.Validator, err = measure(ctx, b.runs, command{b.bin, "validate", dir, "--format", "json", "--no-default-policy"}); err != nil {
		return r, err
	}
	if r.Bundle, err = measure(ctx, b.runs, command{b.bin, "validate", dir, "--format", "json"}); err != nil {
		return r, err
	}
	sameCmd := command{b.bin, "validate", dir, "--format", "json", "--no-default-policy", "--policy", b.policy}
	if b.conftest == "" {
		if r.Same, err = measure(ctx, b.runs, sameCmd); err != nil {
			return r, err
		}
	} else {
		conftestCmd := command{b.conftest, "test", "--no-color", "--output", "json", "--policy", b.policy, "--ignore", conftestIgnore, filepath.Join(dir, "models")}
		var c measurement
		if r.Same, c, r.Ratio, err = measurePair(ctx, b.runs, sameCmd, conftestCmd); err != nil {
			return r, err
		}
		r.Conftest = &c
	}
	r.LoadAfter = sysload.OneMinute()
	return r, nil
}

// command is a program and its arguments.
type command []string

// measurement is what the runs of one command took: wall and CPU time
// (user and system) of each run, and the largest peak memory.
type measurement struct {
	walls, cpus []time.Duration
	maxRSS      int64 // KiB
}

// sample is one run of a command.
type sample struct {
	wall, cpu time.Duration
	rss       int64 // KiB
}

func (m *measurement) add(s sample) {
	m.walls, m.cpus = append(m.walls, s.wall), append(m.cpus, s.cpu)
	m.maxRSS = max(m.maxRSS, s.rss)
}

func median(ds []time.Duration) time.Duration {
	d := slices.Clone(ds)
	slices.Sort(d)
	return d[len(d)/2]
}

// measure runs a command several times, after one warm-up run that fills
// the file cache.
func measure(ctx context.Context, runs int, c command) (measurement, error) {
	var m measurement
	for i := range runs + 1 {
		s, err := runOnce(ctx, c)
		if err != nil {
			return m, err
		}
		if i > 0 {
			m.add(s)
		}
	}
	return m, nil
}

// measurePair runs a and b in turn, A B A B, after one warm-up of each, and
// returns both measurements and the median of the ratios b/a of each pair.
func measurePair(ctx context.Context, runs int, a, b command) (ma, mb measurement, ratio float64, err error) {
	var ratios []float64
	for i := range runs + 1 {
		sa, err := runOnce(ctx, a)
		if err != nil {
			return ma, mb, 0, err
		}
		sb, err := runOnce(ctx, b)
		if err != nil {
			return ma, mb, 0, err
		}
		if i == 0 {
			continue
		}
		ma.add(sa)
		mb.add(sb)
		ratios = append(ratios, float64(sb.wall)/float64(sa.wall))
	}
	slices.Sort(ratios)
	return ma, mb, ratios[len(ratios)/2], nil
}

// runOnce runs a command and returns its wall and CPU time and its peak
// resident memory. Exit status 1 (findings) is a result, not an error.
func runOnce(ctx context.Context, c command) (sample, error) {
	cmd := exec.CommandContext(ctx, c[0], c[1:]...)
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return sample{}, fmt.Errorf("%s %s: %v\n%s", filepath.Base(c[0]), strings.Join(c[1:min(len(c), 7)], " "), err, stderr.String())
	}
	s := sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.rss = ru.Maxrss
	}
	return s, nil
}
