package dbtime

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestMillisRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123_456_789, time.FixedZone("CET", 3600))
	assert.Equal(t, at.Truncate(time.Millisecond).UTC(), FromMillis(Millis(at)))
	assert.Zero(t, Millis(time.Time{}))
	assert.True(t, FromMillis(0).IsZero())
}
