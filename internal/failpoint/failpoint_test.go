package failpoint

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArmAndParse(t *testing.T) {
	spec := Arm(map[string]float64{EffectMarked: 0.05, IntakeStored: 1, "unknown": 1})
	assert.Equal(t, "intake.stored=1,effect.marked=0.05", spec)
	got, err := parse(spec)
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{IntakeStored: 1, EffectMarked: 0.05}, got)
	for _, bad := range []string{"x", "x=2", "x=-1", "x=often"} {
		_, err := parse(bad)
		assert.Error(t, err, bad)
	}
}

func TestReadLog(t *testing.T) {
	at := time.Unix(1700000000, 5)
	text := logLine(EffectDone, "12", at) + logLine(IntakeStored, "", at) + "look.judged 3 17000"[:14]
	assert.Equal(t, []Kill{{Point: EffectDone, Key: "12", At: at}, {Point: IntakeStored, Key: "-", At: at}}, ReadLog(text))
}

// TestHitKills builds a program with the failpoint tag and has a hit of
// an armed point kill it with SIGKILL, after logging the kill.
func TestHitKills(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the program with")
	}
	dir := t.TempDir()
	for _, tags := range []string{"failpoint", ""} {
		bin := filepath.Join(dir, "prog"+tags)
		build := exec.Command(goBin, "build", "-tags="+tags, "-o", bin, "./testdata/prog")
		out, err := build.CombinedOutput()
		require.NoError(t, err, "%s", out)
		logFile := filepath.Join(dir, "kills"+tags)
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "MODELGATE_FAILPOINTS=look.judged=1", "MODELGATE_FAILPOINT_LOG="+logFile)
		out, err = cmd.Output()
		if tags == "" {
			require.NoError(t, err)
			assert.Equal(t, "passed\nsurvived\n", string(out), "without the tag nothing is armed")
			continue
		}
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())
		assert.Equal(t, "passed\n", string(out))
		logged, err := os.ReadFile(logFile)
		require.NoError(t, err)
		kills := ReadLog(string(logged))
		require.Len(t, kills, 1)
		assert.Equal(t, "look.judged", kills[0].Point)
		assert.Equal(t, "7", kills[0].Key)
	}
}
