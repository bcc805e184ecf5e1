package encryption

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
)

// errReadAfterClose is returned by Read and WriteTo on a closed Reader.
var errReadAfterClose = errors.New("encryption: read after close")

// Reader decrypts a stream's body. It releases the plaintext of a chunk only
// after that chunk was authenticated, but a stream can still fail at a later
// chunk: treat the plaintext as complete only once Read returned io.EOF (or
// WriteTo returned nil). Every authentication failure is ErrAuthentication;
// errors are sticky. A Reader is not safe for concurrent use.
type Reader struct {
	src     io.Reader
	pl      *pipeline
	peek    [1]byte // first byte of the next chunk, read to learn whether a full chunk is the last
	hasPeek bool
	ended   bool  // the last chunk was submitted, or tailErr was set
	tailErr error // read-ahead error, reported after the chunks before it
	cur     *job  // job whose plaintext is being handed out
	plain   []byte
	err     error // sticky; io.EOF at the end
}

// NewReader reads the stream header from src and opens the body with dek;
// see Header.Open. Use ReadHeader and Open instead when the data key must
// first be unwrapped from the header.
func NewReader(src io.Reader, dek *DataKey, context string, opts ...Option) (*Reader, error) {
	h, err := ReadHeader(src)
	if err != nil {
		return nil, err
	}
	return h.Open(src, dek, context, opts...)
}

// Open authenticates the header with dek and the context the caller expects
// (a wrong key, a wrong context or a changed header give ErrAuthentication)
// and returns a Reader for the body, which src must be positioned at (as
// ReadHeader leaves it). A destroyed dek gives ErrKeyDestroyed.
func (h *Header) Open(src io.Reader, dek *DataKey, context string, opts ...Option) (*Reader, error) {
	o := buildOptions(opts)
	if h.info.Context != context {
		return nil, ErrAuthentication
	}
	transcript := appendTranscript(nil, h.info, h.salt[:], h.prefix[:])
	headerKey, payloadKey, err := streamKeys(dek, h.salt[:], transcript)
	if err != nil {
		return nil, fmt.Errorf("encryption: open: %w", err)
	}
	defer clear(payloadKey)
	ok := hmac.Equal(headerMAC(headerKey, transcript), h.mac[:])
	clear(headerKey)
	if !ok {
		return nil, ErrAuthentication
	}
	pl, err := newPipeline(payloadKey, h.prefix, true, o.workers)
	if err != nil {
		return nil, fmt.Errorf("encryption: open: %w", err)
	}
	return &Reader{src: src, pl: pl}, nil
}

// Read reads decrypted plaintext.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		r.advance()
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// Close stops the helper goroutines of a parallel Reader early and makes
// later reads fail; it does not close the source. Reading to the end or to
// an error stops them too, and so does dropping the Reader (at garbage
// collection).
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = errReadAfterClose
	}
	r.plain = nil
	r.pl.shutdown()
	return nil
}

// advance makes the next chunk's plaintext current, or sets r.err.
func (r *Reader) advance() {
	if r.cur != nil {
		r.pl.release(r.cur)
		r.cur = nil
	}
	r.readAhead()
	if r.pl.pending() == 0 {
		r.fail(r.tailErr) // nil after the last chunk: io.EOF
		return
	}
	j := r.pl.oldest()
	if j.failed {
		r.pl.release(j)
		r.fail(ErrAuthentication)
		return
	}
	r.cur, r.plain = j, j.out
}

// readAhead reads and submits chunks while a job is free.
func (r *Reader) readAhead() {
	for !r.ended {
		j := r.pl.acquire()
		if j == nil {
			return
		}
		n, last, err := r.readChunk(j.buf[:encChunkSize])
		if err == nil && last {
			err = checkLastChunk(n, r.pl.counter)
		}
		if err != nil {
			r.pl.release(j)
		} else if err = r.pl.submit(j, j.buf[:n], last); err != nil {
			err = ErrAuthentication // no valid stream has that many chunks
		}
		r.ended = last || err != nil
		r.tailErr = err
	}
}

// readChunk reads one sealed chunk into buf and reports whether it is the
// last: a short chunk is, and so is a full one that the source ends after.
func (r *Reader) readChunk(buf []byte) (n int, last bool, err error) {
	off := 0
	if r.hasPeek {
		buf[0], off, r.hasPeek = r.peek[0], 1, false
	}
	m, err := io.ReadFull(r.src, buf[off:])
	n = off + m
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return n, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("encryption: read: %w", err)
	}
	_, err = io.ReadFull(r.src, r.peek[:])
	if errors.Is(err, io.EOF) {
		return n, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("encryption: read: %w", err)
	}
	r.hasPeek = true
	return n, false, nil
}

// fail records the sticky error (nil means the end: io.EOF) and stops the
// pipeline.
func (r *Reader) fail(err error) {
	if err == nil {
		err = io.EOF
	}
	r.err = err
	r.plain = nil
	r.pl.shutdown()
}
