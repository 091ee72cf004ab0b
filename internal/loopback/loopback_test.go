package loopback

import (
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEphemeral(t *testing.T) {
	tests := []struct {
		text   string
		lo, hi int
	}{
		{"32768\t60999\n", 32768, 60999},
		{"1024 65535", 1024, 65535},
		{"", 32768, 60999},
		{"60999 32768", 32768, 60999},
		{"a b", 32768, 60999},
		{"0 70000", 32768, 60999},
	}
	for _, tt := range tests {
		lo, hi := ephemeral(tt.text)
		assert.Equal(t, [2]int{tt.lo, tt.hi}, [2]int{lo, hi}, "%q", tt.text)
	}
}

func TestStablePortIsFreeAndOutsideTheRange(t *testing.T) {
	lo, hi := ephemeral(readFile(rangeFile))
	for range 20 {
		port, err := StablePort()
		require.NoError(t, err)
		assert.True(t, port >= lowest && (port < lo || port > hi), "port %d, ephemeral range %d-%d", port, lo, hi)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		require.NoError(t, err, "the port is free")
		ln.Close()
	}
}
