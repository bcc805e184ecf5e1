package node

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestForEachLimited_RunsUpToLimitAtOnceAndJoinsErrors(t *testing.T) {
	var mu sync.Mutex
	running, most := 0, 0
	items := []int{1, 2, 3, 4, 5, 6, 7}
	err := forEachLimited(items, 3, func(i int) error {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		if i%3 == 0 {
			return fmt.Errorf("item %d failed", i)
		}
		return nil
	})
	require.Equal(t, 3, most, "in parallel, never more than the limit")
	require.EqualError(t, err, "item 3 failed\nitem 6 failed", "every item ran; errors joined in order")
}

func TestForEachLimited_NoItems(t *testing.T) {
	require.NoError(t, forEachLimited(nil, 8, func(int) error { return errors.New("never called") }))
}
