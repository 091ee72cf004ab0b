package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/golden"
)

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  string
	}{
		{in: "1000,10000, 100000", want: []int{1000, 10000, 100000}},
		{in: "5", want: []int{5}},
		{in: "1000,,10", err: `size "": `},
		{in: "1e3", err: `size "1e3": `},
		{in: "0", err: "size 0: at least one manifest is needed"},
		{in: "-4", err: "size -4: at least one manifest is needed"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSizes(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFormats(t *testing.T) {
	for d, want := range map[time.Duration]string{
		4 * time.Millisecond:      "4 ms",
		755400 * time.Microsecond: "755 ms",
		2138 * time.Millisecond:   "2.14 s",
		34111 * time.Millisecond:  "34.1 s",
		93311 * time.Millisecond:  "93.3 s",
		234 * time.Second:         "234 s",
	} {
		assert.Equal(t, want, seconds(d), d.String())
	}
	for n, want := range map[int]string{1: "1", 999: "999", 1000: "1,000", 30000: "30,000", 100000: "100,000", 1234567: "1,234,567"} {
		assert.Equal(t, want, thousands(n))
	}
}

func ms(vs ...int) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestTable(t *testing.T) {
	conftest := measurement{walls: ms(7700, 7724, 7900), cpus: ms(9000, 9100, 9050), maxRSS: 198 << 10}
	tab := table{Runs: 3, Sizes: "1000,100000", Cores: 2, GoVersion: "go1.26.8", Conftest: "conftest v0.59.0", Rows: []row{
		{
			Manifests: 1000,
			Validator: measurement{walls: ms(58, 60, 57), cpus: ms(90, 95, 92), maxRSS: 32 << 10},
			Bundle:    measurement{walls: ms(275, 280, 270), cpus: ms(400, 410, 405), maxRSS: 56 << 10},
			Same:      measurement{walls: ms(75, 80, 70), cpus: ms(110, 120, 115), maxRSS: 37 << 10},
			Conftest:  &conftest, Ratio: 8.84, LoadBefore: "2.91", LoadAfter: "2.76",
		},
		{
			Manifests:  100000,
			Validator:  measurement{walls: ms(6038, 6100, 6000), cpus: ms(7000, 7100, 7050), maxRSS: 695 << 10},
			Bundle:     measurement{walls: ms(34111, 30000, 35000), cpus: ms(40000, 40500, 40200), maxRSS: 1442 << 10},
			Same:       measurement{walls: ms(10110, 10000, 10200), cpus: ms(11000, 11100, 11050), maxRSS: 959 << 10},
			LoadBefore: "1.51", LoadAfter: "2.92",
		},
	}}
	var b strings.Builder
	tab.head(&b)
	for _, r := range tab.Rows {
		r.write(&b)
	}
	tab.foot(&b)
	golden.Assert(t, "table.md", b.String())
}

func TestTableWithoutConftest(t *testing.T) {
	tab := table{Runs: 1, Sizes: "10", Cores: 2, GOMAXPROCS: "1", GoVersion: "go1.26.8"}
	var b strings.Builder
	tab.head(&b)
	tab.foot(&b) // one size or none: no growth to say
	assert.Contains(t, b.String(), "(GOMAXPROCS=1), go1.26.8, conftest not found.")
	assert.Contains(t, b.String(), "| same policy: conftest |")
	assert.NotContains(t, b.String(), "From ")
}

func TestRunOnce(t *testing.T) {
	ctx := t.Context()
	s, err := runOnce(ctx, command{"sh", "-c", "exit 1"})
	require.NoError(t, err, "exit status 1 is a check with findings")
	assert.Positive(t, s.wall)
	_, err = runOnce(ctx, command{"sh", "-c", "echo broken policy >&2; exit 2"})
	require.ErrorContains(t, err, "exit status 2")
	assert.ErrorContains(t, err, "broken policy", "the command's own words are in the error")
	_, err = runOnce(ctx, command{"/nonexistent/modelgate", "validate"})
	assert.Error(t, err)
}

func TestModuleVersionOfANonGoBinary(t *testing.T) {
	assert.Equal(t, "sh", moduleVersion("/bin/sh"))
}
