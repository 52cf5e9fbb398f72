// Package parallel runs independent pieces of one job on every CPU.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Run runs fn(0..n-1) on one goroutine per CPU, each taking the next i in
// turn, and returns the error of the lowest i that failed: the one a
// sequential loop would have met first.
func Run(n int, fn func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				errs[i] = fn(i)
			}
		})
	}
	wg.Wait()
	return First(errs)
}

// First is the first non-nil error of errs.
func First(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Chunks is how many chunks of size n items make.
func Chunks(n, size int) int { return (n + size - 1) / size }
