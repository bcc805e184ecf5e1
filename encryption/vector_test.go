package encryption

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the frozen vectors in testdata (only for a deliberate format change)")

const (
	streamVectorFile = "stream_v1.hex"
	sealVectorFile   = "seal_v1.hex"
	sealVectorCtx    = "node-slot:instance-1/node-1"
)

// The vectors' inputs: key 00..1f, randomness 40.., testInfo, and these
// plaintexts. Two chunks, so that the counter and the last flag are locked.
func streamVectorPlaintext() []byte { return patterned(ChunkSize + 37) }
func sealVectorPlaintext() []byte   { return []byte("node key slot record v1") }

func vector(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update && got != nil {
		var text strings.Builder
		for line := range slices.Chunk(got, 32) {
			text.WriteString(hex.EncodeToString(line) + "\n")
		}
		require.NoError(t, os.WriteFile(path, []byte(text.String()), 0o644))
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	want, err := hex.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	require.NoError(t, err)
	return want
}

func TestStreamVector_Reproduced(t *testing.T) {
	got := encrypt(t, testKey(t), streamVectorPlaintext(), 0)
	want := vector(t, streamVectorFile, got)
	require.True(t, bytes.Equal(want, got), "the stream format changed: bump the version instead")
	for _, m := range readModes {
		pt, err := m.run(want, testKey(t), testContext)
		require.NoError(t, err, m.name)
		require.True(t, bytes.Equal(streamVectorPlaintext(), pt), m.name)
	}
}

func TestSealVector_Reproduced(t *testing.T) {
	got, err := seal(fixedRandom(), testKey(t), sealVectorPlaintext(), sealVectorCtx)
	require.NoError(t, err)
	want := vector(t, sealVectorFile, got)
	require.True(t, bytes.Equal(want, got), "the record format changed: bump the version instead")
	pt, err := Open(testKey(t), want, sealVectorCtx)
	require.NoError(t, err)
	require.Equal(t, sealVectorPlaintext(), pt)
}

// TestStreamVector_MatchesPackageDoc decodes the vector with a separate,
// straight-line reading of the format in the package doc, so that the doc
// and the code cannot drift apart.
func TestStreamVector_MatchesPackageDoc(t *testing.T) {
	b := vector(t, streamVectorFile, nil)
	require.Equal(t, "BYOKFLOW", string(b[:8]))
	require.Equal(t, byte(1), b[8])
	require.Equal(t, uint32(65536), binary.BigEndian.Uint32(b[9:13]))
	off, fields := 13, make([]string, 4)
	for i := range fields {
		n := int(binary.BigEndian.Uint16(b[off:]))
		fields[i], off = string(b[off+2:off+2+n]), off+2+n
	}
	require.Equal(t, []string{"root-1", "version-1", "wrapped-dek", testContext}, fields)
	salt, prefix, mac := b[off:off+32], b[off+32:off+39], b[off+39:off+71]
	transcript, body := b[:off+39], b[off+71:]

	prk, err := hkdf.Extract(sha256.New, testKeyBytes(), salt)
	require.NoError(t, err)
	headerKey, err := hkdf.Expand(sha256.New, prk, "byokflow stream v1 header key", 32)
	require.NoError(t, err)
	m := hmac.New(sha256.New, headerKey)
	m.Write(transcript)
	require.Equal(t, mac, m.Sum(nil))
	payloadKey, err := hkdf.Expand(sha256.New, prk, "byokflow stream v1 payload key\x00"+string(transcript), 32)
	require.NoError(t, err)
	block, err := aes.NewCipher(payloadKey)
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)

	var pt []byte
	for counter := uint32(0); len(body) > 0; counter++ {
		n := min(65536+16, len(body))
		last := byte(0)
		if n == len(body) {
			last = 1
		}
		nonce := append(binary.BigEndian.AppendUint32(bytes.Clone(prefix), counter), last)
		chunk, err := gcm.Open(nil, nonce, body[:n], nil)
		require.NoError(t, err, "chunk %d", counter)
		pt, body = append(pt, chunk...), body[n:]
	}
	require.Equal(t, streamVectorPlaintext(), pt)
}

func TestSealVector_MatchesPackageDoc(t *testing.T) {
	b := vector(t, sealVectorFile, nil)
	require.Equal(t, "BYOKSEAL", string(b[:8]))
	require.Equal(t, byte(1), b[8])
	key, err := hkdf.Key(sha256.New, testKeyBytes(), b[9:41], "byokflow seal v1\x00"+sealVectorCtx, 32)
	require.NoError(t, err)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	pt, err := gcm.Open(nil, make([]byte, 12), b[41:], b[:41])
	require.NoError(t, err)
	require.Equal(t, sealVectorPlaintext(), pt)
}
