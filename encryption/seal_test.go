package encryption

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

const slotContext = "node-slot:instance-1/node-1"

func TestSeal_RoundTrip(t *testing.T) {
	key := testKey(t)
	for _, size := range []int{0, 1, 31, 32, 33, 1000, ChunkSize + 1} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			pt := patterned(size)
			sealed, err := Seal(key, pt, slotContext)
			require.NoError(t, err)
			require.Len(t, sealed, size+SealOverhead)
			got, err := Open(key, sealed, slotContext)
			require.NoError(t, err)
			require.True(t, bytes.Equal(pt, got))
		})
	}
}

func TestSeal_FreshSaltEveryTime(t *testing.T) {
	key := testKey(t)
	a, err := Seal(key, []byte("same"), slotContext)
	require.NoError(t, err)
	b, err := Seal(key, []byte("same"), slotContext)
	require.NoError(t, err)
	require.NotEqual(t, a, b)
}

func TestOpen_EveryBitFlipIsRejected(t *testing.T) {
	key := testKey(t)
	sealed, err := Seal(key, []byte("node key slot"), slotContext)
	require.NoError(t, err)
	for i := range sealed {
		for bit := range 8 {
			bad := bytes.Clone(sealed)
			bad[i] ^= 1 << bit
			_, err := Open(key, bad, slotContext)
			if i <= len(sealMagic) { // magic and version
				require.ErrorIs(t, err, ErrFormat, "offset %d bit %d", i, bit)
				continue
			}
			require.Equal(t, ErrAuthentication, err, "offset %d bit %d", i, bit)
		}
	}
}

func TestOpen_TruncationAndTrailingDataAreRejected(t *testing.T) {
	key := testKey(t)
	sealed, err := Seal(key, []byte("node key slot"), slotContext)
	require.NoError(t, err)
	for n := range len(sealed) {
		_, err := Open(key, sealed[:n], slotContext)
		if n < SealOverhead {
			require.ErrorIs(t, err, ErrFormat, "length %d", n)
		} else {
			require.Equal(t, ErrAuthentication, err, "length %d", n)
		}
	}
	_, err = Open(key, append(bytes.Clone(sealed), 0), slotContext)
	require.Equal(t, ErrAuthentication, err)
}

func TestOpen_WrongKeyOrContextIsRejected(t *testing.T) {
	key := testKey(t)
	sealed, err := Seal(key, []byte("node key slot"), slotContext)
	require.NoError(t, err)
	_, err = Open(otherKey(t), sealed, slotContext)
	require.Equal(t, ErrAuthentication, err)
	for _, ctx := range []string{"", "node-slot:instance-1/node-2", slotContext + "\x00"} {
		_, err = Open(key, sealed, ctx)
		require.Equal(t, ErrAuthentication, err, "context %q", ctx)
	}
}

func TestOpen_StreamIsNotARecord(t *testing.T) {
	stream := encrypt(t, testKey(t), []byte("x"), 0)
	_, err := Open(testKey(t), stream, slotContext)
	require.ErrorIs(t, err, ErrFormat)
}
