// Command govbench measures the governance check as whole processes: the
// modelgate binary with its default bundle, modelgate and conftest running
// the same policy on the same files, and the validator alone, on generated
// repositories of 1,000 to 100,000 manifests (or any sizes). It prints the
// median wall time and the peak memory of each, and the load of the
// machine while it measured. The default sizes take a quarter of an hour,
// most of it conftest at 100,000 manifests.
//
// conftest is handed the repository's models directory, as a user with
// 100,000 files would (a list of that many paths exceeds the system's
// limit on arguments), and told to ignore the lineage files, which the
// policy is not written for. The two same-policy commands run in turn, A B
// A B, and their ratio is the median of the ratios of each pair, so that a
// machine whose speed drifts still compares them fairly.
//
//	go run ./tools/govbench [-runs 3] [-sizes 1000,10000,30000,100000] [-conftest PATH]
//	go run ./tools/govbench -sizes 1,100,1000   # a quick look
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/modelgate/modelgate/internal/repogen"
)

func main() {
	runs := flag.Int("runs", 3, "runs of each command; the median is printed")
	sizes := flag.String("sizes", "1000,10000,30000,100000", "repository sizes, in manifests")
	conftest := flag.String("conftest", "conftest", "conftest binary (go install github.com/open-policy-agent/conftest@v0.59.0)")
	flag.Parse()
	if err := run(context.Background(), *runs, *sizes, *conftest, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "govbench:", err)
		os.Exit(1)
	}
}

// conftestIgnore keeps conftest to the manifests when it walks the models
// directory: the policy judges manifests, not lineage files.
const conftestIgnore = `lineage\.json$`

func run(ctx context.Context, runs int, sizes, conftestBin string, out io.Writer) error {
	if runs < 1 {
		return fmt.Errorf("runs %d: at least one run is needed", runs)
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
	conftestPath, err := exec.LookPath(conftestBin)
	if err != nil {
		fmt.Fprintf(out, "conftest not found (%v): its column is empty\n", err)
	}
	policy, err := filepath.Abs("testdata/bench/policy")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "median of %d runs, wall time / peak memory of the process; GOMAXPROCS=%s\n\n", runs, cmp.Or(os.Getenv("GOMAXPROCS"), "all cores"))
	fmt.Fprintln(out, "| manifests | validator only | default bundle | same policy: modelgate | same policy: conftest | conftest / modelgate | load |")
	fmt.Fprintln(out, "|---:|---:|---:|---:|---:|---:|---|")
	for _, field := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return fmt.Errorf("size %q: %w", field, err)
		}
		b := bench{work: work, bin: bin, conftest: conftestPath, policy: policy, runs: runs}
		if err := b.row(ctx, out, n); err != nil {
			return err
		}
	}
	return nil
}

// bench is what every row measures with.
type bench struct {
	work, bin, conftest, policy string
	runs                        int
}

// row generates a repository of n manifests, measures every command on it
// and prints the row. The repository is removed afterwards: at 100,000
// manifests it holds 200,000 files.
func (b bench) row(ctx context.Context, out io.Writer, n int) error {
	dir := filepath.Join(b.work, fmt.Sprintf("repo-%d", n))
	if err := repogen.Write(dir, n); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	loadBefore := loadAverage()
	validator, err := measure(ctx, b.runs, command{b.bin, "validate", dir, "--format", "json", "--no-default-policy"})
	if err != nil {
		return err
	}
	bundle, err := measure(ctx, b.runs, command{b.bin, "validate", dir, "--format", "json"})
	if err != nil {
		return err
	}
	sameCmd := command{b.bin, "validate", dir, "--format", "json", "--no-default-policy", "--policy", b.policy}
	cells := []string{strconv.Itoa(n), validator.String(), bundle.String(), "", "—", "—", ""}
	if b.conftest == "" {
		same, err := measure(ctx, b.runs, sameCmd)
		if err != nil {
			return err
		}
		cells[3] = same.String()
	} else {
		conftestCmd := command{b.conftest, "test", "--no-color", "--output", "json", "--policy", b.policy, "--ignore", conftestIgnore, filepath.Join(dir, "models")}
		same, c, ratio, err := measurePair(ctx, b.runs, sameCmd, conftestCmd)
		if err != nil {
			return err
		}
		cells[3], cells[4], cells[5] = same.String(), c.String(), fmt.Sprintf("%.1fx", ratio)
	}
	cells[6] = loadBefore + " → " + loadAverage()
	fmt.Fprintf(out, "| %s |\n", strings.Join(cells, " | "))
	return nil
}

// command is a program and its arguments.
type command []string

// measurement is one command's median wall time and largest peak memory.
type measurement struct {
	walls  []time.Duration
	maxRSS int64 // KiB
}

func (m measurement) median() time.Duration {
	w := slices.Clone(m.walls)
	slices.Sort(w)
	return w[len(w)/2]
}

func (m measurement) String() string {
	return fmt.Sprintf("%s / %d MiB", m.median().Round(time.Millisecond), m.maxRSS/1024)
}

// measure runs a command several times, after one warm-up run that fills
// the file cache.
func measure(ctx context.Context, runs int, c command) (measurement, error) {
	var m measurement
	for i := range runs + 1 {
		wall, rss, err := runOnce(ctx, c)
		if err != nil {
			return m, err
		}
		if i > 0 {
			m.walls = append(m.walls, wall)
			m.maxRSS = max(m.maxRSS, rss)
		}
	}
	return m, nil
}

// measurePair runs a and b in turn, A B A B, after one warm-up of each, and
// returns both measurements and the median of the ratios b/a of each pair.
func measurePair(ctx context.Context, runs int, a, b command) (ma, mb measurement, ratio float64, err error) {
	var ratios []float64
	for i := range runs + 1 {
		wa, ra, err := runOnce(ctx, a)
		if err != nil {
			return ma, mb, 0, err
		}
		wb, rb, err := runOnce(ctx, b)
		if err != nil {
			return ma, mb, 0, err
		}
		if i == 0 {
			continue
		}
		ma.walls, ma.maxRSS = append(ma.walls, wa), max(ma.maxRSS, ra)
		mb.walls, mb.maxRSS = append(mb.walls, wb), max(mb.maxRSS, rb)
		ratios = append(ratios, float64(wb)/float64(wa))
	}
	slices.Sort(ratios)
	return ma, mb, ratios[len(ratios)/2], nil
}

// runOnce runs a command and returns its wall time and peak resident
// memory (KiB). Exit status 1 (findings) is a result, not an error.
func runOnce(ctx context.Context, c command) (time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, c[0], c[1:]...)
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return 0, 0, fmt.Errorf("%s %s: %v\n%s", filepath.Base(c[0]), strings.Join(c[1:min(len(c), 7)], " "), err, stderr.String())
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return wall, rss, nil
}

// loadAverage is the system's one-minute load average, or "?" where
// /proc/loadavg cannot be read.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	first, _, _ := strings.Cut(string(b), " ")
	return first
}
