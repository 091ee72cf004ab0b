// Package sysload reads the machine's load average, which a benchmark or
// a soak prints beside its figures: on a shared machine the figures say as
// much about the neighbours as about the code.
package sysload

import (
	"os"
	"strings"
)

// loadavg is where Linux keeps the load averages.
const loadavg = "/proc/loadavg"

// Averages returns the one-, five- and fifteen-minute load averages
// ("1.65 1.83 0.99"), or "?" where the system cannot say.
func Averages() string {
	f := fields(readFile(loadavg))
	if f == nil {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// OneMinute returns the one-minute load average, or "?".
func OneMinute() string {
	f := fields(readFile(loadavg))
	if f == nil {
		return "?"
	}
	return f[0]
}

// fields are the three averages of /proc/loadavg's text
// ("1.65 1.83 0.99 2/301 24527"), or nil.
func fields(text string) []string {
	f := strings.Fields(text)
	if len(f) < 3 {
		return nil
	}
	return f[:3]
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
