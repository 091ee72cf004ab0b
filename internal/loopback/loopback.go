// Package loopback finds ports on 127.0.0.1 for test servers that are
// stopped and started again on the same address (a killed bot, a
// restarted Prometheus). A port the kernel hands out for listening on
// :0 lies in its ephemeral range, which it also uses for the local end
// of outgoing connections: while the server is down, a client's
// connection may take its port, and the restart fails with "address
// already in use". These ports lie outside that range.
package loopback

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// rangeFile is where Linux keeps its ephemeral range.
const rangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// lowest is the first port considered: below it live well-known services.
const lowest = 10000

// tries bounds the search for a port no one listens on.
const tries = 100

// StablePort returns a port of 127.0.0.1 that no one listens on and that
// the kernel does not give to outgoing connections.
func StablePort() (int, error) {
	lo, hi := ephemeral(readFile(rangeFile))
	var free []int // the bounds of the spans outside [lo, hi]
	if lo > lowest {
		free = append(free, lowest, lo-1)
	}
	if hi < 65535 {
		free = append(free, max(hi+1, lowest), 65535)
	}
	if len(free) == 0 {
		return 0, errors.New("no port outside the ephemeral range")
	}
	var err error
	for range tries {
		span := 2 * rand.IntN(len(free)/2)
		port := free[span] + rand.IntN(free[span+1]-free[span]+1)
		var ln net.Listener
		if ln, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			ln.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port outside the ephemeral range after %d tries: %w", tries, err)
}

// ephemeral reads the range ("32768\t60999"), or Linux's default.
func ephemeral(text string) (lo, hi int) {
	f := strings.Fields(text)
	if len(f) == 2 {
		l, err1 := strconv.Atoi(f[0])
		h, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil && 0 < l && l <= h && h <= 65535 {
			return l, h
		}
	}
	return 32768, 60999
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
