//go:build failpoint || soak

package failpoint

import (
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"time"
)

// Enabled says the build has failpoints.
const Enabled = true

// Hit passes point: with the chance the environment gives it, the
// process records the kill and dies of SIGKILL here. The environment is
// read at each hit, so that nothing of this lives in package state.
func Hit(point, key string) {
	chances, err := parse(os.Getenv("MODELGATE_FAILPOINTS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	c, ok := chances[point]
	if !ok || rand.Float64() >= c {
		return
	}
	if path := os.Getenv("MODELGATE_FAILPOINT_LOG"); path != "" {
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			_, _ = f.WriteString(logLine(point, key, time.Now()))
			_ = f.Sync()
			_ = f.Close()
		}
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}
