package sysload

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFields(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"1.65 1.83 0.99 2/301 24527\n", []string{"1.65", "1.83", "0.99"}},
		{"0.00 0.01 0.05", []string{"0.00", "0.01", "0.05"}},
		{"1.65 1.83", nil},
		{"", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, fields(tt.text), "%q", tt.text)
	}
}

func TestReadsThisMachine(t *testing.T) {
	if readFile(loadavg) == "" {
		t.Skip("no " + loadavg + " on this system")
	}
	assert.Regexp(t, `^\d+\.\d+$`, OneMinute())
	assert.Regexp(t, `^\d+\.\d+ \d+\.\d+ \d+\.\d+$`, Averages())
}
