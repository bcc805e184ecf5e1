package encryption

import (
	"errors"
	"fmt"
	"io"
)

// WriteTo writes the remaining plaintext to dst, as io.Copy does when it
// finds this method. When the source implements io.WriterTo (bytes.Reader,
// bufio.Reader, os.File, ...) and nothing was read yet, WriteTo has the
// source push its bytes and opens whole chunks straight from the source's
// buffers, which saves a copy; otherwise it reads chunk by chunk. It returns
// nil at the end of a valid stream, and ErrAuthentication, a read error of
// the source or a write error of dst otherwise.
func (r *Reader) WriteTo(dst io.Writer) (int64, error) {
	cw := &countingWriter{w: dst}
	if len(r.plain) > 0 {
		if err := cw.emit(r.plain); err != nil {
			r.fail(err)
		}
		r.plain = nil
	}
	if r.err == nil {
		if wt, ok := r.src.(io.WriterTo); ok && r.pl.counter == 0 && !r.ended {
			r.push(wt, cw)
		} else {
			r.pull(cw)
		}
	}
	if errors.Is(r.err, io.EOF) {
		return cw.n, nil
	}
	return cw.n, r.err
}

// push lets the source write the sealed body into a framer.
func (r *Reader) push(wt io.WriterTo, cw *countingWriter) {
	r.ended = true // the source is consumed whatever happens
	sink := &framerSink{f: &framer{pl: r.pl, size: encChunkSize, open: true, emit: cw.emit}}
	_, err := wt.WriteTo(sink)
	switch {
	case sink.err != nil:
		err = sink.err // ErrAuthentication or a write error of dst
	case err != nil:
		err = fmt.Errorf("encryption: read: %w", err)
	default:
		err = sink.f.finish()
	}
	r.fail(err)
}

// pull reads, opens and writes chunk by chunk.
func (r *Reader) pull(cw *countingWriter) {
	for {
		r.advance()
		if r.err != nil {
			return
		}
		err := cw.emit(r.plain)
		r.plain = nil
		if err != nil {
			r.fail(err)
			return
		}
	}
}

// framerSink is the io.Writer a source's WriteTo pushes sealed bytes into.
type framerSink struct {
	f   *framer
	err error
}

func (s *framerSink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.f.write(p); err != nil {
		s.f.pl.shutdown() // drop queued chunks that point into p
		s.err = err
		return 0, err
	}
	return len(p), nil
}

// countingWriter writes plaintext to the caller's writer and counts it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) emit(b []byte) error {
	n, err := c.w.Write(b)
	c.n += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("encryption: write plaintext: %w", err)
	}
	return nil
}
