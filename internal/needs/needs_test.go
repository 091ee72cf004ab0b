package needs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a TB that remembers how the test ended; Skip and Fatal
// stop the caller as the real ones do.
type recorder struct {
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper()           {}
func (r *recorder) Skip(args ...any)  { r.skipped, r.msg = true, fmt.Sprint(args...); panic(r) }
func (r *recorder) Fatal(args ...any) { r.failed, r.msg = true, fmt.Sprint(args...); panic(r) }

func (r *recorder) run(f func(TB)) (ended *recorder) {
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		ended = r
	}()
	f(r)
	return r
}

func TestMissingSkipsOrFailsUnderCI(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			var lines []string
			r := (&recorder{}).run(func(tb TB) {
				missing(tb, "PostgreSQL", "apt-get install postgresql", errors.New("initdb not found"), func(l string) { lines = append(lines, l) })
			})
			assert.Equal(t, ci == "true", r.failed)
			assert.Equal(t, ci != "true", r.skipped)
			assert.Contains(t, r.msg, "needs PostgreSQL: initdb not found; apt-get install postgresql")
			if ci == "true" {
				assert.Empty(t, lines, "a failure says it all")
				return
			}
			assert.Equal(t, []string{"SKIPPED tests in github.com/modelgate/modelgate/internal/needs: needs PostgreSQL: initdb not found; apt-get install postgresql"}, lines)
		})
	}
}

func TestCommandLooksInTheGoBinDirectory(t *testing.T) {
	bin := t.TempDir()
	tool := filepath.Join(bin, "sometool")
	require.NoError(t, os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755))
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOBIN", bin)
	var got string
	r := (&recorder{}).run(func(tb TB) { got = Command(tb, "sometool", "go install example.com/sometool@v1") })
	assert.False(t, r.skipped || r.failed, r.msg)
	assert.Equal(t, tool, got)

	t.Setenv("CI", "true")
	r = (&recorder{}).run(func(tb TB) { Command(tb, "othertool", "go install example.com/othertool@v1") })
	assert.True(t, r.failed)
	assert.Contains(t, r.msg, "CI needs othertool: ")
	assert.Contains(t, r.msg, "go install example.com/othertool@v1")
}
