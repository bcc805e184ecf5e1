package encryption

import (
	"errors"
	"fmt"
	"io"
)

// Writer encrypts a stream (see the package doc for the format). Its errors
// are sticky: after one, every Write and Close returns it. A Writer is not
// safe for concurrent use.
type Writer struct {
	dst    io.Writer
	f      framer
	err    error
	closed bool
}

// NewWriter writes the stream header for info to dst and returns a Writer
// that encrypts what is written to it under a key derived from dek. Close
// must be called to write the last chunk; it does not close dst. The header
// fields must fit their limits (MaxRootKeyIDLen and so on).
func NewWriter(dst io.Writer, dek *DataKey, info HeaderInfo, opts ...Option) (*Writer, error) {
	o := buildOptions(opts)
	if err := info.validate(); err != nil {
		return nil, fmt.Errorf("encryption: new writer: %w", err)
	}
	h := &Header{info: info}
	if _, err := io.ReadFull(o.rand, h.salt[:]); err != nil {
		return nil, fmt.Errorf("encryption: new writer: read random: %w", err)
	}
	if _, err := io.ReadFull(o.rand, h.prefix[:]); err != nil {
		return nil, fmt.Errorf("encryption: new writer: read random: %w", err)
	}
	transcript := appendTranscript(nil, info, h.salt[:], h.prefix[:])
	headerKey, payloadKey, err := streamKeys(dek, h.salt[:], transcript)
	if err != nil {
		return nil, fmt.Errorf("encryption: new writer: %w", err)
	}
	defer clear(payloadKey)
	copy(h.mac[:], headerMAC(headerKey, transcript))
	clear(headerKey)
	pl, err := newPipeline(payloadKey, h.prefix, false, o.workers)
	if err != nil {
		return nil, fmt.Errorf("encryption: new writer: %w", err)
	}
	if _, err := dst.Write(h.marshal()); err != nil {
		pl.shutdown()
		return nil, fmt.Errorf("encryption: write header: %w", err)
	}
	w := &Writer{dst: dst}
	w.f = framer{pl: pl, size: ChunkSize, emit: w.emit}
	return w, nil
}

func (w *Writer) emit(b []byte) error {
	_, err := w.dst.Write(b)
	return err
}

// Write encrypts p. A chunk is written to the destination once the next
// byte shows it is not the last, so a Writer holds back at most one chunk
// (in parallel mode, a batch of 32 per worker). Write does not retain p.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errWriteAfterClose
	}
	if err := w.f.write(p); err != nil {
		w.fail(err)
		return 0, w.err
	}
	return len(p), nil
}

// Close encrypts and writes the last chunk and stops the helper goroutines.
// It does not close the destination. Closing again returns nil, or the
// sticky error.
func (w *Writer) Close() error {
	if w.err != nil || w.closed {
		return w.err
	}
	w.closed = true
	if err := w.f.finish(); err != nil {
		w.fail(err)
		return w.err
	}
	w.f.pl.shutdown()
	return nil
}

func (w *Writer) fail(err error) {
	w.f.pl.shutdown()
	if !errors.Is(err, errStreamTooLong) {
		err = fmt.Errorf("encryption: write: %w", err)
	}
	w.err = err
}
