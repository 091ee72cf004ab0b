// Command govbench measures the governance check as whole processes: the
// modelgate binary with its default bundle, modelgate and conftest running
// the same policy on the same files, and the validator alone, on generated
// repositories of 1, 100, 1,000 and 10,000 manifests. It prints the median
// wall time and the peak memory of each.
//
//	go run ./tools/govbench [-runs 3] [-sizes 1,100,1000,10000] [-conftest PATH]
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
	sizes := flag.String("sizes", "1,100,1000,10000", "repository sizes, in manifests")
	conftest := flag.String("conftest", "conftest", "conftest binary (go install github.com/open-policy-agent/conftest@v0.59.0)")
	flag.Parse()
	if err := run(context.Background(), *runs, *sizes, *conftest, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "govbench:", err)
		os.Exit(1)
	}
}

// measurement is one command's median wall time and largest peak memory.
type measurement struct {
	wall   time.Duration
	maxRSS int64 // KiB
}

func run(ctx context.Context, runs int, sizes, conftestBin string, out io.Writer) error {
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
	fmt.Fprintln(out, "| manifests | validator only | default bundle | same policy: modelgate | same policy: conftest | conftest / modelgate |")
	fmt.Fprintln(out, "|---:|---:|---:|---:|---:|---:|")
	for _, field := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return fmt.Errorf("size %q: %w", field, err)
		}
		if err := row(ctx, out, work, bin, conftestPath, policy, n, runs); err != nil {
			return err
		}
	}
	return nil
}

func row(ctx context.Context, out io.Writer, work, bin, conftest, policy string, n, runs int) error {
	dir := filepath.Join(work, fmt.Sprintf("repo-%d", n))
	if err := repogen.Write(dir, n); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(dir, "models", "*", "*", "model.yaml"))
	if err != nil {
		return err
	}
	validator, err := measure(ctx, runs, bin, "validate", dir, "--format", "json", "--no-default-policy")
	if err != nil {
		return err
	}
	bundle, err := measure(ctx, runs, bin, "validate", dir, "--format", "json")
	if err != nil {
		return err
	}
	same, err := measure(ctx, runs, bin, "validate", dir, "--format", "json", "--no-default-policy", "--policy", policy)
	if err != nil {
		return err
	}
	cells := []string{strconv.Itoa(n), validator.String(), bundle.String(), same.String(), "—", "—"}
	if conftest != "" {
		args := append([]string{"test", "--no-color", "--output", "json", "--policy", policy}, files...)
		c, err := measure(ctx, runs, conftest, args...)
		if err != nil {
			return err
		}
		cells[4] = c.String()
		cells[5] = fmt.Sprintf("%.1fx", float64(c.wall)/float64(same.wall))
	}
	fmt.Fprintf(out, "| %s |\n", strings.Join(cells, " | "))
	return nil
}

func (m measurement) String() string {
	return fmt.Sprintf("%s / %d MiB", m.wall.Round(time.Millisecond), m.maxRSS/1024)
}

// measure runs a command several times (after one warm-up run) and returns
// the median wall time and the largest peak resident memory. Exit status 1
// (findings) is a result, not an error.
func measure(ctx context.Context, runs int, name string, args ...string) (measurement, error) {
	var walls []time.Duration
	var m measurement
	for i := range runs + 1 {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Stdout = io.Discard
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
			return m, fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args[:min(len(args), 6)], " "), err, stderr.String())
		}
		if i == 0 {
			continue // warm-up: file cache
		}
		walls = append(walls, wall)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.maxRSS = max(m.maxRSS, ru.Maxrss)
		}
	}
	slices.Sort(walls)
	m.wall = walls[len(walls)/2]
	return m, nil
}
