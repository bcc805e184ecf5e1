package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
)

// heartbeatInterval is how often a backup or restore records its progress;
// the counters themselves are updated per write, which costs an atomic
// store, not a heartbeat.
const heartbeatInterval = 2 * time.Second

// fileBuffer is the write buffer in front of a backup file.
const fileBuffer = 1 << 20

// progress is the number of backup-file bytes written or read so far.
type progress struct{ n atomic.Int64 }

// heartbeats records p as the activity's heartbeat every
// heartbeatInterval, from its own goroutine, until stop is called; stop
// records a last one. Outside an activity it does nothing.
func heartbeats(ctx context.Context, p *progress) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	activity.RecordHeartbeat(ctx, p.n.Load())
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(heartbeatInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				activity.RecordHeartbeat(ctx, p.n.Load())
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		activity.RecordHeartbeat(ctx, p.n.Load())
	}
}

// fileSink is where the encrypted stream goes: it hashes (SHA-256) and
// counts what it is given and hands it, in fileBuffer blocks, to a pipe
// whose goroutine writes the file, so that the write system calls overlap
// with sealing and hashing the next bytes.
type fileSink struct {
	p    *pipe
	buf  []byte
	sum  hash.Hash
	n    int64
	prog *progress
	err  error
}

func newFileSink(w io.Writer, prog *progress) *fileSink {
	s := &fileSink{p: newPipe(w, fileBuffer), sum: sha256.New(), prog: prog}
	s.buf = s.p.buffer()[:0]
	return s
}

func (s *fileSink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	total := len(p)
	s.sum.Write(p)
	s.n += int64(len(p))
	s.prog.n.Store(s.n)
	for len(p) > 0 && s.err == nil {
		n := copy(s.buf[len(s.buf):cap(s.buf)], p)
		s.buf, p = s.buf[:len(s.buf)+n], p[n:]
		if len(s.buf) == cap(s.buf) {
			s.err = s.p.send(block{b: s.buf, pooled: true})
			s.buf = s.p.buffer()[:0]
		}
	}
	return total - len(p), s.err
}

// flush writes out what is buffered, waits for the file writes and
// returns the first error. It must be called, also after an error, to stop
// the pipe; the sink must not be written afterwards.
func (s *fileSink) flush() error {
	if s.err == nil && len(s.buf) > 0 {
		s.err = s.p.send(block{b: s.buf})
	}
	if err := s.p.close(); s.err == nil {
		s.err = err
	}
	return s.err
}

// hexSum is the SHA-256 of everything written, in hex.
func (s *fileSink) hexSum() string { return hex.EncodeToString(s.sum.Sum(nil)) }

// countingReader counts the bytes read through it into prog.
type countingReader struct {
	r    io.Reader
	n    int64
	prog *progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.prog.n.Store(c.n)
	return n, err
}

// fileSHA256 hashes all of r in hex, counting the bytes into prog.
func fileSHA256(r io.Reader, prog *progress) (string, int64, error) {
	sum := sha256.New()
	n, err := io.CopyBuffer(sum, &countingReader{r: r, prog: prog}, make([]byte, fileBuffer))
	return hex.EncodeToString(sum.Sum(nil)), n, err
}
