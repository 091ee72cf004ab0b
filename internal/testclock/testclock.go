// Package testclock is a clock for tests that moves only when told to.
package testclock

import (
	"sync"
	"time"
)

// Clock is safe for concurrent use; its zero value stands at the zero time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock that stands at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time; pass it where a func() time.Time is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
