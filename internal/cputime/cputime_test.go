package cputime

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestProcessGrowsWithWork(t *testing.T) {
	before := Process()
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	assert.Positive(t, x)
	assert.Greater(t, Process(), before)
}
