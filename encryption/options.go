package encryption

import (
	"crypto/rand"
	"io"
	"runtime"
)

// Option configures NewWriter, NewReader and Header.Open.
type Option func(*options)

type options struct {
	workers int
	rand    io.Reader
}

// WithParallelism seals or opens chunks on n goroutines, the caller's and
// n-1 helpers; n <= 0 means runtime.GOMAXPROCS(0), and n == 1 (the
// default) works sequentially in the caller's goroutine; n is capped at
// MaxParallelism. The bytes written and read are the same for every n.
// Parallel mode works batches of 32 chunks per goroutine (2 MiB of buffers
// each), and pays off for streams of a few batches or more.
func WithParallelism(n int) Option {
	return func(o *options) {
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		o.workers = min(n, MaxParallelism)
	}
}

// MaxParallelism bounds WithParallelism, and so a stream's buffers (32 MiB).
const MaxParallelism = 64

func buildOptions(opts []Option) options {
	o := options{workers: 1, rand: rand.Reader}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
