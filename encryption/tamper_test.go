package encryption

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// structuralOffsets returns the header offsets whose change may make the
// header unparseable (magic, version, chunk size, field lengths): there
// ErrFormat is acceptable too. Everywhere else only ErrAuthentication is.
func structuralOffsets(info HeaderInfo) map[int]bool {
	s := map[int]bool{}
	for i := range fixedHeaderLen {
		s[i] = true
	}
	off := fixedHeaderLen
	for _, n := range []int{len(info.Key.RootKeyID), len(info.Key.KeyVersion), len(info.Key.Ciphertext), len(info.Context)} {
		s[off], s[off+1] = true, true
		off += 2 + n
	}
	return s
}

// requireRejected checks that every read mode rejects stream and releases
// only a prefix of the plaintext.
func requireRejected(t *testing.T, stream, pt []byte, key *DataKey, context string, formatOK bool) {
	t.Helper()
	for _, m := range readModes {
		got, err := m.run(stream, key, context)
		if formatOK && err != ErrAuthentication {
			require.ErrorIs(t, err, ErrFormat, m.name)
		} else {
			require.Equal(t, ErrAuthentication, err, m.name)
		}
		require.True(t, bytes.HasPrefix(pt, got), "%s: released bytes must be authenticated plaintext", m.name)
	}
}

func TestReader_EveryBitFlipIsRejected(t *testing.T) {
	key := testKey(t)
	pt := patterned(100)
	stream := encrypt(t, key, pt, 0)
	structural := structuralOffsets(testInfo())
	for i := range stream {
		for bit := range 8 {
			bad := bytes.Clone(stream)
			bad[i] ^= 1 << bit
			for _, m := range readModes {
				got, err := m.run(bad, key, testContext)
				require.Empty(t, got, "offset %d bit %d %s", i, bit, m.name)
				if structural[i] && err != ErrAuthentication {
					require.ErrorIs(t, err, ErrFormat, "offset %d bit %d %s", i, bit, m.name)
					continue
				}
				require.Equal(t, ErrAuthentication, err, "offset %d bit %d %s", i, bit, m.name)
			}
		}
	}
}

// chunks splits a stream into its header and sealed chunks.
func chunks(t *testing.T, stream []byte) (header []byte, body [][]byte) {
	t.Helper()
	n := len(testHeaderBytes(t))
	header, rest := stream[:n], stream[n:]
	for len(rest) > 0 {
		c := min(encChunkSize, len(rest))
		body, rest = append(body, rest[:c]), rest[c:]
	}
	return header, body
}

func join(header []byte, body ...[]byte) []byte {
	return slices.Concat(append([][]byte{header}, body...)...)
}

func TestReader_TruncationIsRejected(t *testing.T) {
	key := testKey(t)
	for _, size := range []int{0, 1, ChunkSize, 2 * ChunkSize, 3*ChunkSize + 100} {
		pt := patterned(size)
		stream := encrypt(t, key, pt, 0)
		hdr := len(testHeaderBytes(t))
		var cuts []int
		for b := hdr; b < len(stream); b += encChunkSize {
			for _, d := range []int{-tagSize - 1, -tagSize, -1, 0, 1, tagSize, tagSize + 1, encChunkSize / 2} {
				if c := b + d; c >= 0 && c < len(stream) {
					cuts = append(cuts, c)
				}
			}
		}
		cuts = append(cuts, 0, hdr-1, len(stream)-1)
		for _, c := range cuts {
			t.Run(fmt.Sprintf("size=%d/cut=%d", size, c), func(t *testing.T) {
				requireRejected(t, stream[:c], pt, key, testContext, c < hdr)
			})
		}
	}
}

func TestReader_ChunkManipulationIsRejected(t *testing.T) {
	key := testKey(t)
	pt := patterned(3*ChunkSize + 100)
	header, body := chunks(t, encrypt(t, key, pt, 0))
	require.Len(t, body, 4)
	cases := map[string][][]byte{
		"drop first":        {body[1], body[2], body[3]},
		"drop middle":       {body[0], body[2], body[3]},
		"drop last":         {body[0], body[1], body[2]},
		"duplicate first":   {body[0], body[0], body[1], body[2], body[3]},
		"duplicate middle":  {body[0], body[1], body[1], body[2], body[3]},
		"duplicate last":    {body[0], body[1], body[2], body[3], body[3]},
		"swap first two":    {body[1], body[0], body[2], body[3]},
		"swap middle two":   {body[0], body[2], body[1], body[3]},
		"last moved first":  {body[3], body[0], body[1], body[2]},
		"only the last":     {body[3]},
		"empty body":        {},
		"append one byte":   {body[0], body[1], body[2], body[3], {0}},
		"append a tag":      {body[0], body[1], body[2], body[3], make([]byte, tagSize)},
		"append a stream":   {body[0], body[1], body[2], body[3], header, body[0]},
		"append empty last": {body[0], body[1], body[2], body[3], body[3][len(body[3])-tagSize:]},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			requireRejected(t, join(header, b...), pt, key, testContext, false)
		})
	}
}

func TestReader_FullLastChunkWithTrailingDataIsRejected(t *testing.T) {
	key := testKey(t)
	pt := patterned(2 * ChunkSize)
	stream := encrypt(t, key, pt, 0)
	for _, extra := range [][]byte{{0}, make([]byte, tagSize), stream[len(stream)-encChunkSize:]} {
		requireRejected(t, append(bytes.Clone(stream), extra...), pt, key, testContext, false)
	}
}

func TestReader_ChunksFromAnotherStreamAreRejected(t *testing.T) {
	key := testKey(t)
	pt := patterned(2*ChunkSize + 1)
	header, body := chunks(t, encrypt(t, key, pt, 0))
	other := encrypt(t, key, pt, 0, withRandom(bytes.NewReader(bytes.Repeat([]byte{7}, 64))))
	_, otherBody := chunks(t, other)
	requireRejected(t, join(header, body[0], otherBody[1], body[2]), pt, key, testContext, false)
}

func TestHeader_ChangedFieldIsRejected(t *testing.T) {
	key := testKey(t)
	pt := patterned(10)
	stream := encrypt(t, key, pt, 0)
	hdr := len(testHeaderBytes(t))
	auth := map[string]func(h *Header){
		"root key id": func(h *Header) { h.info.Key.RootKeyID = "root-2" },
		"key version": func(h *Header) { h.info.Key.KeyVersion = "version-2" },
		"wrapped key": func(h *Header) { h.info.Key.Ciphertext = []byte("wrapped-dek2") },
		"no wrapped":  func(h *Header) { h.info.Key.Ciphertext = nil },
		"context":     func(h *Header) { h.info.Context = "backup:43" },
		"salt":        func(h *Header) { h.salt[31] ^= 0x80 },
		"prefix":      func(h *Header) { h.prefix[0] ^= 1 },
		"mac":         func(h *Header) { h.mac[5] ^= 1 },
	}
	for name, change := range auth {
		t.Run(name, func(t *testing.T) {
			h, err := ReadHeader(bytes.NewReader(stream))
			require.NoError(t, err)
			change(h)
			requireRejected(t, append(h.marshal(), stream[hdr:]...), pt, key, testContext, false)
		})
	}
	format := map[string]func(b []byte){
		"magic":      func(b []byte) { b[0] = 'X' },
		"version":    func(b []byte) { b[len(streamMagic)] = 2 },
		"chunk size": func(b []byte) { binary.BigEndian.PutUint32(b[len(streamMagic)+1:], ChunkSize/2) },
		"oversized":  func(b []byte) { binary.BigEndian.PutUint16(b[fixedHeaderLen:], MaxRootKeyIDLen+1) },
	}
	for name, change := range format {
		t.Run(name, func(t *testing.T) {
			bad := bytes.Clone(stream)
			change(bad)
			_, err := ReadHeader(bytes.NewReader(bad))
			require.ErrorIs(t, err, ErrFormat)
			requireRejected(t, bad, pt, key, testContext, true)
		})
	}
}

func TestReader_WrongContextIsRejected(t *testing.T) {
	key := testKey(t)
	pt := patterned(ChunkSize + 1)
	stream := encrypt(t, key, pt, 0)
	for _, ctx := range []string{"", "backup:4", "backup:42 ", "backup:43", string(make([]byte, MaxContextLen+1))} {
		requireRejected(t, stream, pt, key, ctx, false)
	}
}

func TestReader_WrongKeyIsRejected(t *testing.T) {
	key := testKey(t)
	pt := patterned(ChunkSize + 1)
	stream := encrypt(t, key, pt, 0)
	requireRejected(t, stream, pt, otherKey(t), testContext, false)
}
