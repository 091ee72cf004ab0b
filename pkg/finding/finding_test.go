package finding

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		word string
		want Severity
		ok   bool
	}{
		{"deny", Error, true}, {"violation", Error, true}, {"high", Error, true},
		{"warn", Warning, true}, {"medium", Warning, true},
		{"info", Info, true}, {"low", Info, true},
		{"bogus", "", false}, {"", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseSeverity(tt.word)
		assert.Equal(t, tt.want, got, tt.word)
		assert.Equal(t, tt.ok, ok, tt.word)
	}
}

func TestSortAndCount(t *testing.T) {
	fs := []Finding{
		{Severity: Info, File: "a", Line: 1},
		{Severity: Error, File: "b", Line: 9},
		{Severity: Warning, File: "a", Line: 2},
		{Severity: Error, File: "a", Line: 3},
		{Severity: Error, File: "a", Line: 3, Rule: "a"},
	}
	Sort(fs)
	assert.Equal(t, []Finding{
		{Severity: Error, File: "a", Line: 3},
		{Severity: Error, File: "a", Line: 3, Rule: "a"},
		{Severity: Error, File: "b", Line: 9},
		{Severity: Warning, File: "a", Line: 2},
		{Severity: Info, File: "a", Line: 1},
	}, fs)
	assert.Equal(t, map[Severity]int{Error: 3, Warning: 1, Info: 1}, Count(fs))
	assert.Equal(t, 4, Severity("other").Rank())
	assert.Less(t, Info.Rank(), Exception.Rank())
}

func TestReaches(t *testing.T) {
	fs := []Finding{{Severity: Info}, {Severity: Warning}}
	assert.True(t, Reaches(fs, Warning))
	assert.True(t, Reaches(fs, Info))
	assert.False(t, Reaches(fs, Error))
	assert.False(t, Reaches(nil, Info))
	assert.False(t, Reaches([]Finding{{Severity: Exception}}, Exception), "an exception never fails a check")
	_, ok := ParseSeverity("exception")
	assert.False(t, ok, "a policy cannot give a message the severity of an exception")
}
