package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSONBlocksWriteWhatAnEncoderWrites: however the items are cut into
// blocks, each marshalled on every core, the array holds them in their order,
// as one indented encoding of the whole array would.
func TestJSONBlocksWriteWhatAnEncoderWrites(t *testing.T) {
	type item struct {
		N    int      `json:"n"`
		Tags []string `json:"tags"`
	}
	items := func(n int) []item {
		out := make([]item, n)
		for i := range out {
			out[i] = item{N: i, Tags: []string{fmt.Sprint("t", i), "x"}}
		}
		return out
	}
	tests := []struct{ n, block int }{
		{0, 4}, {1, 4}, {4, 4}, {5, 4}, {9, 4}, {10, 1}, {10, 3}, {7, 100}, {1000, 64},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d items, blocks of %d", tt.n, tt.block), func(t *testing.T) {
			in := items(tt.n)
			want, err := json.MarshalIndent(map[string][]item{"a": in}, "", "  ")
			require.NoError(t, err)
			var got bytes.Buffer
			w := bufio.NewWriter(&got)
			w.WriteString("{\n  \"a\": ")
			require.NoError(t, writeJSONBlocks(w, len(in), tt.block, func(i int) any { return in[i] }))
			w.WriteString("\n}")
			require.NoError(t, w.Flush())
			assert.Equal(t, string(want), got.String())
		})
	}
}

// TestJSONBlocksReportTheItemThatFails: an item that cannot be marshalled
// (a NaN) fails the write with its index, in whichever block it falls.
func TestJSONBlocksReportTheItemThatFails(t *testing.T) {
	vals := []float64{1, 2, 3, 4, 5, math.NaN(), 7}
	var b bytes.Buffer
	err := writeJSONBlocks(bufio.NewWriter(&b), len(vals), 2, func(i int) any { return vals[i] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "item 5")
	assert.Contains(t, err.Error(), "unsupported value: NaN")
}
