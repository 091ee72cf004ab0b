package canary

import (
	"log/slog"
	"time"
)

// Clock is the engine's clock: nil is the wall clock; tests move their own.
type Clock func() time.Time

// Now is the time on the clock.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// Log is l, or a logger that discards everything when l is nil.
func Log(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
