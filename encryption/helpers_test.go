package encryption

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// withRandom replaces crypto/rand as the source of a stream's salt and
// nonce prefix, for reproducible streams and frozen vectors.
func withRandom(r io.Reader) Option {
	return func(o *options) { o.rand = r }
}

// fixedRandom returns the bytes 0x40, 0x41, ... for every stream: salt and
// nonce prefix are then fixed.
func fixedRandom() io.Reader {
	b := make([]byte, saltSize+noncePrefixSize)
	for i := range b {
		b[i] = byte(0x40 + i)
	}
	return bytes.NewReader(b)
}

func testKeyBytes() []byte {
	b := make([]byte, DataKeySize)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func testKey(t testing.TB) *DataKey {
	t.Helper()
	k, err := NewDataKeyFromBytes(testKeyBytes())
	require.NoError(t, err)
	return k
}

func otherKey(t testing.TB) *DataKey {
	t.Helper()
	b := testKeyBytes()
	b[0] ^= 1
	k, err := NewDataKeyFromBytes(b)
	require.NoError(t, err)
	return k
}

const testContext = "backup:42"

func testInfo() HeaderInfo {
	return HeaderInfo{
		Key:     WrappedKey{RootKeyID: "root-1", KeyVersion: "version-1", Ciphertext: []byte("wrapped-dek")},
		Context: testContext,
	}
}

// patterned returns n deterministic bytes that differ from chunk to chunk.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/ChunkSize)
	}
	return b
}

// encrypt writes pt in writes of at most step bytes (0: one write) with
// fixed randomness, so equal inputs give equal streams.
func encrypt(t testing.TB, key *DataKey, pt []byte, step int, opts ...Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	opts = append([]Option{withRandom(fixedRandom())}, opts...)
	w, err := NewWriter(&buf, key, testInfo(), opts...)
	require.NoError(t, err)
	if step <= 0 {
		step = max(len(pt), 1)
	}
	for p := pt; len(p) > 0; {
		n := min(step, len(p))
		m, err := w.Write(p[:n])
		require.NoError(t, err)
		require.Equal(t, n, m)
		p = p[n:]
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// readMode is one way to drive a Reader.
type readMode struct {
	name string
	run  func(src []byte, key *DataKey, context string, opts ...Option) ([]byte, error)
}

var readModes = func() []readMode {
	var modes []readMode
	for _, par := range []struct {
		name string
		opts []Option
	}{{"sequential", nil}, {"parallel", []Option{WithParallelism(2)}}} {
		modes = append(modes,
			readMode{par.name + "/read", func(src []byte, k *DataKey, c string, o ...Option) ([]byte, error) {
				return decryptWith(bytes.NewReader(src), k, c, viaRead, append(o, par.opts...)...)
			}},
			readMode{par.name + "/writeto-push", func(src []byte, k *DataKey, c string, o ...Option) ([]byte, error) {
				return decryptWith(bytes.NewReader(src), k, c, viaWriteTo, append(o, par.opts...)...)
			}},
			readMode{par.name + "/writeto-pull", func(src []byte, k *DataKey, c string, o ...Option) ([]byte, error) {
				return decryptWith(iotest.HalfReader(bytes.NewReader(src)), k, c, viaWriteTo, append(o, par.opts...)...)
			}},
		)
	}
	return modes
}()

const (
	viaRead = iota
	viaWriteTo
)

// decryptWith returns the plaintext released before an error, and the error.
func decryptWith(src io.Reader, key *DataKey, context string, via int, opts ...Option) ([]byte, error) {
	r, err := NewReader(src, key, context, opts...)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if via == viaWriteTo {
		_, err = r.WriteTo(&out)
	} else {
		_, err = io.Copy(&out, onlyReader{r})
	}
	return out.Bytes(), err
}

// onlyReader hides every method but Read.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
