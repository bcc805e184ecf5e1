package encryption

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"
)

var roundTripSizes = []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, 3*ChunkSize + 17, 5<<20 + 3}

func TestStream_RoundTrip(t *testing.T) {
	key := testKey(t)
	for _, size := range roundTripSizes {
		pt := patterned(size)
		want := encrypt(t, key, pt, 0)
		require.Len(t, want, len(testHeaderBytes(t))+size+tagSize*max(1, (size+ChunkSize-1)/ChunkSize))
		for _, step := range []int{1, 7, 4096, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 5} {
			if step == 1 && size > 3*ChunkSize {
				continue // a million one-byte writes prove nothing more
			}
			t.Run(fmt.Sprintf("size=%d/write=%d", size, step), func(t *testing.T) {
				got := encrypt(t, key, pt, step)
				require.True(t, bytes.Equal(want, got), "the stream must not depend on write sizes")
			})
		}
		for _, m := range readModes {
			t.Run(fmt.Sprintf("size=%d/%s", size, m.name), func(t *testing.T) {
				got, err := m.run(want, key, testContext)
				require.NoError(t, err)
				require.True(t, bytes.Equal(pt, got))
			})
		}
	}
}

func TestStream_ParallelMatchesSequential(t *testing.T) {
	key := testKey(t)
	for _, size := range roundTripSizes {
		pt := patterned(size)
		want := encrypt(t, key, pt, 0)
		for _, workers := range []int{0, 2, 3, 8} {
			for _, step := range []int{0, 4096, ChunkSize + 1} {
				t.Run(fmt.Sprintf("size=%d/workers=%d/write=%d", size, workers, step), func(t *testing.T) {
					got := encrypt(t, key, pt, step, WithParallelism(workers))
					require.True(t, bytes.Equal(want, got))
					dec, err := decryptWith(bytes.NewReader(got), key, testContext, viaWriteTo, WithParallelism(workers))
					require.NoError(t, err)
					require.True(t, bytes.Equal(pt, dec))
				})
			}
		}
	}
}

func TestReader_IOTestReaders(t *testing.T) {
	key := testKey(t)
	pt := patterned(3*ChunkSize + 100)
	stream := encrypt(t, key, pt, 0)
	wrappers := map[string]func(io.Reader) io.Reader{
		"one-byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data-err": iotest.DataErrReader,
	}
	for name, wrap := range wrappers {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(t *testing.T) {
				r, err := NewReader(wrap(bytes.NewReader(stream)), key, testContext, WithParallelism(workers))
				require.NoError(t, err)
				require.NoError(t, iotest.TestReader(r, pt))
			})
		}
	}
}

func TestReader_SourceErrorIsReportedNotAuthentication(t *testing.T) {
	key := testKey(t)
	pt := patterned(3 * ChunkSize)
	stream := encrypt(t, key, pt, 0)
	hdr := len(testHeaderBytes(t))
	for _, m := range []int{viaRead, viaWriteTo} {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("via=%d/workers=%d", m, workers), func(t *testing.T) {
				// The header and a chunk and a half arrive, then the source times out.
				src := io.MultiReader(bytes.NewReader(stream[:hdr+encChunkSize+ChunkSize/2]),
					iotest.TimeoutReader(bytes.NewReader(stream[hdr+encChunkSize+ChunkSize/2:])))
				got, err := decryptWith(src, key, testContext, m, WithParallelism(workers))
				require.ErrorIs(t, err, iotest.ErrTimeout)
				require.NotErrorIs(t, err, ErrAuthentication)
				require.True(t, bytes.Equal(pt[:ChunkSize], got), "only the authenticated first chunk is released")
			})
		}
	}
}

func TestReader_ErrorsAreSticky(t *testing.T) {
	key := testKey(t)
	stream := encrypt(t, key, patterned(2*ChunkSize+5), 0)
	stream[len(stream)-1] ^= 1
	r, err := NewReader(bytes.NewReader(stream), key, testContext)
	require.NoError(t, err)
	_, err = io.ReadAll(r)
	require.Equal(t, ErrAuthentication, err)
	for range 3 {
		n, err := r.Read(make([]byte, 10))
		require.Zero(t, n)
		require.Equal(t, ErrAuthentication, err)
	}
	_, err = r.WriteTo(io.Discard)
	require.Equal(t, ErrAuthentication, err)
}

func TestReader_ReadThenWriteTo(t *testing.T) {
	key := testKey(t)
	pt := patterned(4*ChunkSize + 9)
	stream := encrypt(t, key, pt, 0)
	for _, workers := range []int{1, 3} {
		for _, first := range []int{1, ChunkSize, ChunkSize + 1, 2*ChunkSize + 3} {
			t.Run(fmt.Sprintf("workers=%d/first=%d", workers, first), func(t *testing.T) {
				r, err := NewReader(bytes.NewReader(stream), key, testContext, WithParallelism(workers))
				require.NoError(t, err)
				head := make([]byte, first)
				_, err = io.ReadFull(r, head)
				require.NoError(t, err)
				var rest bytes.Buffer
				n, err := r.WriteTo(&rest)
				require.NoError(t, err)
				require.Equal(t, int64(len(pt)-first), n)
				require.True(t, bytes.Equal(pt, append(head, rest.Bytes()...)))
			})
		}
	}
}

func TestReader_CloseStopsReading(t *testing.T) {
	key := testKey(t)
	stream := encrypt(t, key, patterned(5*ChunkSize), 0)
	r, err := NewReader(bytes.NewReader(stream), key, testContext, WithParallelism(2))
	require.NoError(t, err)
	_, err = r.Read(make([]byte, 100))
	require.NoError(t, err)
	require.NoError(t, r.Close())
	_, err = r.Read(make([]byte, 100))
	require.ErrorIs(t, err, errReadAfterClose)
}

type failingWriter struct {
	after int // bytes accepted before failing
	n     int
}

var errDst = errors.New("disk full")

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.after {
		return 0, errDst
	}
	f.n += len(p)
	return len(p), nil
}

func TestWriter_ErrorsAreSticky(t *testing.T) {
	key := testKey(t)
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			dst := &failingWriter{after: len(testHeaderBytes(t)) + encChunkSize}
			w, err := NewWriter(dst, key, testInfo(), WithParallelism(workers))
			require.NoError(t, err)
			_, err = w.Write(patterned(4 * ChunkSize))
			require.ErrorIs(t, err, errDst)
			_, err2 := w.Write([]byte("more"))
			require.Equal(t, err, err2)
			require.Equal(t, err, w.Close())
		})
	}
}

func TestWriter_WriteAfterClose(t *testing.T) {
	w, err := NewWriter(io.Discard, testKey(t), testInfo())
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, w.Close())
	_, err = w.Write([]byte("x"))
	require.ErrorIs(t, err, errWriteAfterClose)
}

func TestNewWriter_HeaderWriteFails(t *testing.T) {
	_, err := NewWriter(&failingWriter{}, testKey(t), testInfo())
	require.ErrorIs(t, err, errDst)
}

func TestNewWriter_FieldTooLong(t *testing.T) {
	cases := map[string]func(*HeaderInfo){
		"root key id": func(i *HeaderInfo) { i.Key.RootKeyID = string(make([]byte, MaxRootKeyIDLen+1)) },
		"key version": func(i *HeaderInfo) { i.Key.KeyVersion = string(make([]byte, MaxKeyVersionLen+1)) },
		"wrapped key": func(i *HeaderInfo) { i.Key.Ciphertext = make([]byte, MaxWrappedKeyLen+1) },
		"context":     func(i *HeaderInfo) { i.Context = string(make([]byte, MaxContextLen+1)) },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			info := testInfo()
			change(&info)
			_, err := NewWriter(io.Discard, testKey(t), info)
			require.ErrorIs(t, err, ErrFormat)
			require.ErrorContains(t, err, name)
		})
	}
}

func TestHeader_ReadHeaderThenOpen(t *testing.T) {
	key := testKey(t)
	pt := patterned(ChunkSize + 3)
	src := bytes.NewReader(encrypt(t, key, pt, 0))
	h, err := ReadHeader(src)
	require.NoError(t, err)
	require.Equal(t, testInfo(), h.Info())
	r, err := h.Open(src, key, h.Info().Context)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, pt, got)
}

func TestStream_DestroyedKey(t *testing.T) {
	key := testKey(t)
	stream := encrypt(t, key, []byte("x"), 0)
	key.Destroy()
	_, err := NewWriter(io.Discard, key, testInfo())
	require.ErrorIs(t, err, ErrKeyDestroyed)
	_, err = NewReader(bytes.NewReader(stream), key, testContext)
	require.ErrorIs(t, err, ErrKeyDestroyed)
}

// testHeaderBytes is the encoded header of testInfo.
func testHeaderBytes(t testing.TB) []byte {
	t.Helper()
	h, err := ReadHeader(bytes.NewReader(encrypt(t, testKey(t), nil, 0)))
	require.NoError(t, err)
	return h.marshal()
}

func TestStream_DroppedParallelStreamsStopTheirHelpers(t *testing.T) {
	key := testKey(t)
	stream := encrypt(t, key, patterned(3*ChunkSize), 0)
	var live []any
	for range 5 {
		w, err := NewWriter(io.Discard, key, testInfo(), WithParallelism(4))
		require.NoError(t, err)
		_, err = w.Write(patterned(ChunkSize + 1))
		require.NoError(t, err)
		r, err := NewReader(bytes.NewReader(stream), key, testContext, WithParallelism(4))
		require.NoError(t, err)
		_, err = r.Read(make([]byte, 10))
		require.NoError(t, err)
		live = append(live, w, r)
	}
	// Helpers start as goroutines; on a loaded machine the last may not be
	// scheduled yet when the streams are made.
	for deadline := time.Now().Add(5 * time.Second); helperCount() < 30; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "each stream runs 3 helpers: %d running", helperCount())
	}
	runtime.KeepAlive(live)
	live = nil
	for deadline := time.Now().Add(5 * time.Second); helperCount() > 0; {
		require.True(t, time.Now().Before(deadline), "helpers of dropped streams must stop")
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// helperCount counts the goroutines running runHelper.
func helperCount() int {
	buf := make([]byte, 1<<20)
	for runtime.Stack(buf, true) == len(buf) { // truncated
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "encryption.runHelper(")
}
