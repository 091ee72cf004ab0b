package queue

import "time"

// Backoff is the queue's one retry policy: a job that failed on its n-th
// attempt runs again after Base·2ⁿ⁻¹, at most Max, and fails for good
// after MaxAttempts attempts or on an error its worker calls permanent.
type Backoff struct {
	Base        time.Duration // the first wait; 10 s when zero
	Max         time.Duration // the longest wait; 64·Base when zero
	MaxAttempts int           // 5 when zero; no limit when negative
}

// RetryAt says when a job that failed on its attempts-th attempt (1 for
// the first; 0 counts as 1) runs again, not before notBefore (a rate
// limit's reset); zero means never.
func (b Backoff) RetryAt(now time.Time, attempts int, permanent bool, notBefore time.Time) time.Time {
	limit := b.MaxAttempts
	if limit == 0 {
		limit = 5
	}
	if permanent || (limit > 0 && attempts >= limit) {
		return time.Time{}
	}
	base := b.Base
	if base <= 0 {
		base = 10 * time.Second
	}
	longest := b.Max
	if longest <= 0 {
		longest = 64 * base
	}
	wait := base
	for i := 1; i < attempts && wait <= longest/2; i++ {
		wait *= 2
	}
	return later(now.Add(min(wait, longest)), notBefore)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
