// Package dbtime is how the bot's database spells a time: BIGINT
// milliseconds since the Unix epoch (UTC), 0 for none, in SQLite and
// PostgreSQL alike.
package dbtime

import "time"

// Millis is t as stored; 0 for the zero time.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis is the time v stores, in UTC; the zero time for 0.
func FromMillis(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
