package bench

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/byokflow/byokflow/encryption"
)

// streamSize is the plaintext size of every benchmark operation.
const streamSize = 64 << 20

// rawChunk is the raw-gcm loop's chunk, byokflow's chunk size.
const rawChunk = encryption.ChunkSize

var (
	plaintext  = makePlaintext()
	streamInfo = encryption.HeaderInfo{
		Key:     encryption.WrappedKey{RootKeyID: "root-1", KeyVersion: "v1", Ciphertext: make([]byte, 200)},
		Context: "backup:bench",
	}
	tinkAAD = []byte("backup:bench")
)

func makePlaintext() []byte {
	b := make([]byte, streamSize)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(b)
	return b
}

func start(b *testing.B) {
	b.SetBytes(streamSize)
	b.ReportAllocs()
	b.ResetTimer()
}

func rawGCM(b *testing.B) cipher.AEAD {
	block, err := aes.NewCipher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return aead
}

func dataKey(b *testing.B) *encryption.DataKey {
	k, err := encryption.NewDataKey()
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func tinkPrimitive(b *testing.B) tink.StreamingAEAD {
	h, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		b.Fatal(err)
	}
	p, err := streamingaead.New(h)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkEncrypt(b *testing.B) {
	b.Run("raw-gcm", func(b *testing.B) {
		aead, nonce := rawGCM(b), make([]byte, 12)
		buf := make([]byte, 0, rawChunk+aead.Overhead())
		start(b)
		for b.Loop() {
			for off, i := 0, uint32(0); off < len(plaintext); off, i = off+rawChunk, i+1 {
				binary.BigEndian.PutUint32(nonce[7:], i)
				buf = aead.Seal(buf[:0], nonce, plaintext[off:off+rawChunk], nil)
			}
		}
	})
	b.Run("raw-gcm-parallel", func(b *testing.B) {
		start(b)
		for b.Loop() {
			splitChunks(len(plaintext)/rawChunk, func(from, to int) {
				aead, nonce := rawGCM(b), make([]byte, 12)
				buf := make([]byte, 0, rawChunk+aead.Overhead())
				for i := from; i < to; i++ {
					binary.BigEndian.PutUint32(nonce[7:], uint32(i))
					buf = aead.Seal(buf[:0], nonce, plaintext[i*rawChunk:(i+1)*rawChunk], nil)
				}
			})
		}
	})
	byokflow := func(opts ...encryption.Option) func(*testing.B) {
		return func(b *testing.B) {
			dek := dataKey(b)
			start(b)
			for b.Loop() {
				w, err := encryption.NewWriter(io.Discard, dek, streamInfo, opts...)
				if err != nil {
					b.Fatal(err)
				}
				mustWrite(b, w, plaintext)
			}
		}
	}
	b.Run("byokflow", byokflow())
	b.Run("byokflow-parallel", byokflow(encryption.WithParallelism(0)))
	b.Run("tink", func(b *testing.B) {
		p := tinkPrimitive(b)
		start(b)
		for b.Loop() {
			w, err := p.NewEncryptingWriter(io.Discard, tinkAAD)
			if err != nil {
				b.Fatal(err)
			}
			mustWrite(b, w, plaintext)
		}
	})
	b.Run("age", func(b *testing.B) {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			b.Fatal(err)
		}
		start(b)
		for b.Loop() {
			w, err := age.Encrypt(io.Discard, id.Recipient())
			if err != nil {
				b.Fatal(err)
			}
			mustWrite(b, w, plaintext)
		}
	})
}

func mustWrite(b *testing.B, w io.WriteCloser, p []byte) {
	if _, err := w.Write(p); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkDecrypt(b *testing.B) {
	b.Run("raw-gcm", func(b *testing.B) {
		aead, nonce, sealed := rawGCM(b), make([]byte, 12), rawSealed(b)
		buf := make([]byte, 0, rawChunk)
		start(b)
		for b.Loop() {
			for i, c := range sealed {
				binary.BigEndian.PutUint32(nonce[7:], uint32(i))
				var err error
				if buf, err = aead.Open(buf[:0], nonce, c, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("raw-gcm-parallel", func(b *testing.B) {
		sealed := rawSealed(b)
		start(b)
		for b.Loop() {
			splitChunks(len(sealed), func(from, to int) {
				aead, nonce := rawGCM(b), make([]byte, 12)
				buf := make([]byte, 0, rawChunk)
				for i := from; i < to; i++ {
					binary.BigEndian.PutUint32(nonce[7:], uint32(i))
					var err error
					if buf, err = aead.Open(buf[:0], nonce, sealed[i], nil); err != nil {
						panic(err)
					}
				}
			})
		}
	})
	byokflow := func(opts ...encryption.Option) func(*testing.B) {
		return func(b *testing.B) {
			dek := dataKey(b)
			var stream bytes.Buffer
			w, err := encryption.NewWriter(&stream, dek, streamInfo)
			if err != nil {
				b.Fatal(err)
			}
			mustWrite(b, w, plaintext)
			start(b)
			for b.Loop() {
				r, err := encryption.NewReader(bytes.NewReader(stream.Bytes()), dek, streamInfo.Context, opts...)
				if err != nil {
					b.Fatal(err)
				}
				mustDrain(b, r, streamSize)
			}
		}
	}
	b.Run("byokflow", byokflow())
	b.Run("byokflow-parallel", byokflow(encryption.WithParallelism(0)))
	b.Run("tink", func(b *testing.B) {
		p := tinkPrimitive(b)
		var stream bytes.Buffer
		w, err := p.NewEncryptingWriter(&stream, tinkAAD)
		if err != nil {
			b.Fatal(err)
		}
		mustWrite(b, w, plaintext)
		start(b)
		for b.Loop() {
			r, err := p.NewDecryptingReader(bytes.NewReader(stream.Bytes()), tinkAAD)
			if err != nil {
				b.Fatal(err)
			}
			mustDrain(b, r, streamSize)
		}
	})
}

func mustDrain(b *testing.B, r io.Reader, want int64) {
	n, err := io.Copy(io.Discard, r)
	if err != nil || n != want {
		b.Fatalf("decrypted %d bytes, want %d: %v", n, want, err)
	}
}

// rawSealed returns the plaintext sealed chunk by chunk by the raw loop.
func rawSealed(b *testing.B) [][]byte {
	aead, nonce := rawGCM(b), make([]byte, 12)
	var sealed [][]byte
	for off, i := 0, uint32(0); off < len(plaintext); off, i = off+rawChunk, i+1 {
		binary.BigEndian.PutUint32(nonce[7:], i)
		sealed = append(sealed, aead.Seal(nil, nonce, plaintext[off:off+rawChunk], nil))
	}
	return sealed
}

// splitChunks runs work on GOMAXPROCS goroutines, each over one contiguous
// share of n chunks with no synchronisation between them: the machine's own
// parallel ceiling for AES-GCM, which raw-gcm-parallel reports.
func splitChunks(n int, work func(from, to int)) {
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for p := range procs {
		wg.Go(func() { work(p*n/procs, (p+1)*n/procs) })
	}
	wg.Wait()
}
