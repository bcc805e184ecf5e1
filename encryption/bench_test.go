package encryption

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// Benchmarks for development; bench/ compares byokflow with its peers.

const benchSize = 16 << 20

func BenchmarkWriter(b *testing.B) {
	key, pt := testKey(b), patterned(benchSize)
	for _, workers := range []int{1, 2, 3, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				w, err := NewWriter(io.Discard, key, testInfo(), WithParallelism(workers))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = w.Write(pt)
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReader(b *testing.B) {
	key := testKey(b)
	stream := encrypt(b, key, patterned(benchSize), 0)
	for _, workers := range []int{1, 2, 3, 4} {
		for _, via := range []int{viaRead, viaWriteTo} {
			b.Run(fmt.Sprintf("workers=%d/via=%d", workers, via), func(b *testing.B) {
				b.SetBytes(benchSize)
				b.ReportAllocs()
				for b.Loop() {
					r, err := NewReader(bytes.NewReader(stream), key, testContext, WithParallelism(workers))
					if err != nil {
						b.Fatal(err)
					}
					if via == viaWriteTo {
						_, err = r.WriteTo(io.Discard)
					} else {
						_, err = io.Copy(io.Discard, onlyReader{r})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
