package encryption

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriter_NoAllocationPerChunk(t *testing.T) {
	key := testKey(t)
	pt := patterned(8 * ChunkSize)
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			w, err := NewWriter(io.Discard, key, testInfo(), WithParallelism(workers))
			require.NoError(t, err)
			big := testing.AllocsPerRun(10, func() { _, _ = w.Write(pt) })
			small := testing.AllocsPerRun(10, func() {
				for p := pt; len(p) > 0; p = p[4096:] {
					_, _ = w.Write(p[:4096])
				}
			})
			require.NoError(t, w.Close())
			require.Zero(t, big, "8 chunks in one write")
			require.Zero(t, small, "8 chunks in 4 KiB writes")
		})
	}
}

func TestReader_NoAllocationPerChunk(t *testing.T) {
	key := testKey(t)
	for _, workers := range []int{1, 2} {
		for _, via := range []int{viaRead, viaWriteTo} {
			t.Run(fmt.Sprintf("workers=%d/via=%d", workers, via), func(t *testing.T) {
				decryptAllocs := func(chunks int) float64 {
					stream := encrypt(t, key, patterned(chunks*ChunkSize), 0)
					return testing.AllocsPerRun(5, func() {
						r, err := NewReader(bytes.NewReader(stream), key, testContext, WithParallelism(workers))
						require.NoError(t, err)
						if via == viaWriteTo {
							_, err = r.WriteTo(io.Discard)
						} else {
							_, err = io.Copy(io.Discard, onlyReader{r})
						}
						require.NoError(t, err)
					})
				}
				// 30 more chunks: any per-chunk allocation would add 30 or more;
				// allow a few for the runtime's own noise.
				few, many := decryptAllocs(2), decryptAllocs(32)
				require.InDelta(t, few, many, 4, "allocations must not scale with chunks")
			})
		}
	}
}

func TestReader_ReadAllocatesNothingPerChunk(t *testing.T) {
	key := testKey(t)
	stream := encrypt(t, key, patterned(40*ChunkSize), 0)
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(stream), key, testContext, WithParallelism(workers))
			require.NoError(t, err)
			buf := make([]byte, ChunkSize)
			allocs := testing.AllocsPerRun(20, func() {
				_, err := io.ReadFull(r, buf)
				require.NoError(t, err)
			})
			require.Zero(t, allocs)
		})
	}
}
