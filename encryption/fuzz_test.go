package encryption

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzSeeds are valid streams under testKey, with their plaintexts.
func fuzzSeeds(f *testing.F) (streams, plaintexts [][]byte) {
	for _, n := range []int{0, 1, 100, ChunkSize + 1} {
		pt := patterned(n)
		streams = append(streams, encrypt(f, testKey(f), pt, 0))
		plaintexts = append(plaintexts, pt)
	}
	return streams, plaintexts
}

func FuzzReadHeader(f *testing.F) {
	streams, _ := fuzzSeeds(f)
	for _, s := range streams {
		f.Add(s[:min(len(s), 300)])
	}
	f.Add([]byte{})
	f.Add([]byte("BYOKFLOW\x01\x00\x01\x00\x00\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := bytes.NewReader(data)
		h, err := ReadHeader(src)
		if err != nil {
			require.ErrorIs(t, err, ErrFormat)
			return
		}
		enc := h.marshal()
		require.True(t, bytes.HasPrefix(data, enc), "a parsed header must re-encode to its input")
		require.Equal(t, len(data)-len(enc), src.Len(), "ReadHeader must stop at the header's end")
	})
}

func FuzzReader(f *testing.F) {
	streams, plaintexts := fuzzSeeds(f)
	for _, s := range streams {
		f.Add(s)
	}
	key := testKey(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var accepted []bool
		for _, m := range []readMode{readModes[0], readModes[1], readModes[4]} {
			out, err := m.run(data, key, testContext)
			accepted = append(accepted, err == nil)
			if err != nil {
				require.True(t, errors.Is(err, ErrAuthentication) || errors.Is(err, ErrFormat), "%s: %v", m.name, err)
			}
			i := matchingSeed(data, streams, plaintexts, out)
			if err == nil {
				require.GreaterOrEqual(t, i, 0, "%s accepted a stream that is not one of the seeds", m.name)
				require.True(t, bytes.Equal(streams[i], data), "%s accepted a modified stream", m.name)
				require.True(t, bytes.Equal(plaintexts[i], out), m.name)
			} else if len(out) > 0 {
				require.GreaterOrEqual(t, i, 0, "%s released plaintext of no seed", m.name)
			}
		}
		require.Equal(t, accepted[0], accepted[1])
		require.Equal(t, accepted[0], accepted[2])
	})
}

// matchingSeed returns the index of a seed whose plaintext starts with out
// and whose stream shares data's header, or -1.
func matchingSeed(data []byte, streams, plaintexts [][]byte, out []byte) int {
	for i, s := range streams {
		hdr := len(s) - len(plaintexts[i]) - tagSize*max(1, (len(plaintexts[i])+ChunkSize-1)/ChunkSize)
		if bytes.HasPrefix(data, s[:hdr]) && bytes.HasPrefix(plaintexts[i], out) {
			return i
		}
	}
	return -1
}

func FuzzOpen(f *testing.F) {
	key := testKey(f)
	var seeds [][]byte
	for _, pt := range [][]byte{nil, []byte("x"), []byte("node key slot record")} {
		// Fixed randomness: fuzz workers run this setup again and must
		// know the same seeds.
		sealed, err := seal(fixedRandom(), key, pt, slotContext)
		require.NoError(f, err)
		seeds = append(seeds, sealed)
		f.Add(sealed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Open(key, data, slotContext)
		if err != nil {
			require.True(t, errors.Is(err, ErrAuthentication) || errors.Is(err, ErrFormat), "%v", err)
			return
		}
		for _, s := range seeds {
			if bytes.Equal(s, data) {
				return
			}
		}
		t.Fatalf("Open accepted a modified record")
	})
}
