package node

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// dumpReader reads the frames of a dump (see dump.go) from r, the
// decrypting reader. Its errors are r's (encryption.ErrAuthentication for
// a changed or truncated stream) or wrap errMalformed.
type dumpReader struct {
	r    io.Reader
	kind byte // kind of the current frame
	left int  // unread payload bytes of the current frame
}

// newDumpReader checks the dump's magic and version.
func newDumpReader(r io.Reader) (*dumpReader, error) {
	var m [len(dumpMagic) + 1]byte
	if _, err := io.ReadFull(r, m[:]); err != nil {
		return nil, readError(err)
	}
	if string(m[:len(dumpMagic)]) != dumpMagic || m[len(dumpMagic)] != dumpVersion {
		return nil, fmt.Errorf("%w: not a version %d byokflow dump", errMalformed, dumpVersion)
	}
	return &dumpReader{r: r}, nil
}

// next skips what is left of the current frame and reads the next frame's
// header, returning its kind.
func (d *dumpReader) next() (byte, error) {
	if d.left > 0 {
		if _, err := io.CopyN(io.Discard, d.r, int64(d.left)); err != nil {
			return 0, readError(err)
		}
	}
	var h [frameHeader]byte
	if _, err := io.ReadFull(d.r, h[:]); err != nil {
		return 0, readError(err)
	}
	d.kind, d.left = h[0], int(binary.BigEndian.Uint32(h[1:]))
	if d.left > maxFrame {
		return 0, fmt.Errorf("%w: frame %q of %d bytes", errMalformed, d.kind, d.left)
	}
	return d.kind, nil
}

// payload reads the current frame's payload, appending it to b.
func (d *dumpReader) payload(b []byte) ([]byte, error) {
	n := len(b)
	b = slices.Grow(b, d.left)[:n+d.left]
	if _, err := io.ReadFull(d.r, b[n:]); err != nil {
		return nil, readError(err)
	}
	d.left = 0
	return b, nil
}

// expect reads the next frame, which must be of kind, and decodes its
// JSON payload into v.
func (d *dumpReader) expect(kind byte, v any) error {
	got, err := d.next()
	if err != nil {
		return err
	}
	if got != kind {
		return fmt.Errorf("%w: frame %q where %q belongs", errMalformed, got, kind)
	}
	b, err := d.payload(nil)
	if err == nil {
		err = decodeFrame(kind, b, v)
	}
	return err
}

// decodeFrame decodes a JSON frame payload.
func decodeFrame(kind byte, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: frame %q: %v", errMalformed, kind, err)
	}
	return nil
}

// readError maps an input that ends inside a frame to errMalformed; the
// decrypting reader reports a truncated stream itself, as an
// authentication failure, before this can happen.
func readError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: input ends inside a frame", errMalformed)
	}
	return err
}

// tableData is the io.Reader of one table's data frames, which a COPY ...
// FROM STDIN reads: it returns the 'D' payloads up to the table's 'E'
// frame, then io.EOF. err keeps the reader's own failure, which the server
// only echoes as a failed COPY.
type tableData struct {
	d    *dumpReader
	rows int64 // from the 'E' frame
	done bool
	err  error
}

func (t *tableData) Read(p []byte) (int, error) {
	for t.d.left == 0 || t.d.kind != frameData {
		if t.done || t.err != nil {
			return 0, t.eof()
		}
		t.err = t.advance()
	}
	n := min(len(p), t.d.left)
	n, err := io.ReadFull(t.d.r, p[:n])
	t.d.left -= n
	if err != nil {
		t.err = readError(err)
		return n, t.err
	}
	return n, nil
}

// advance reads the next frame: data continues the table, 'E' ends it.
func (t *tableData) advance() error {
	kind, err := t.d.next()
	switch {
	case err != nil:
		return err
	case kind == frameData:
		return nil
	case kind != frameTableEnd || t.d.left != 8:
		return fmt.Errorf("%w: frame %q inside a table's data", errMalformed, kind)
	}
	b, err := t.d.payload(nil)
	if err != nil {
		return err
	}
	t.rows, t.done = int64(binary.BigEndian.Uint64(b)), true
	return nil
}

func (t *tableData) eof() error {
	if t.err != nil {
		return t.err
	}
	return io.EOF
}
