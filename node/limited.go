package node

import (
	"errors"
	"sync"
)

// shutdownParallel is how many nodes Shutdown takes down at once: every
// node of a usual host. One by one, a host's shutdown lasts as long as
// all its servers' stops added up (20 servers took over a minute on a
// loaded machine; 8 at once, 12 s), and a service manager that stops
// waiting kills the agent with servers still running and their fscrypt
// keys in the kernel. A stop mostly waits on its server's checkpoint.
const shutdownParallel = 32

// forEachLimited calls fn for every item, at most limit at once, waits for
// all, and joins their errors (in the items' order).
func forEachLimited[T any](items []T, limit int, fn func(T) error) error {
	errs := make([]error, len(items))
	slots := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i, item := range items {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			errs[i] = fn(item)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
