// Package parallel spreads independent work by index over the cores.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ForEach calls f(0) … f(n-1), each exactly once, on GOMAXPROCS goroutines,
// handing out indices in order as goroutines free up, and returns when all
// calls have returned. f must be safe to call concurrently.
func ForEach(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}
