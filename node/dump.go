package node

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// The logical dump inside a backup's encrypted stream (the plaintext that
// encryption.NewWriter seals), version 1. Integers are big-endian.
//
//	dump    = magic "BYOKDUMP" · version (1 byte: 1) · frame*
//	frame   = kind (1 byte) · length (uint32, at most maxFrame) · payload
//
// Frames come in this order; a reader rejects any other, and anything
// after the 'Z' frame:
//
//	'H'  once: JSON dumpHeader (backup id, database, server version, time)
//	'P'  0..n: pre-data schema SQL (pg_dump --section=pre-data), concatenated
//	per table:
//	  'T'  once: JSON dumpTable (schema, name, columns, COPY format)
//	  'D'  0..n: the table's COPY data in its format, concatenated
//	  'E'  once: uint64 rows copied
//	'O'  0..n: post-data schema SQL (pg_dump --section=post-data): indexes,
//	     constraints, triggers, materialized view refreshes
//	'Q'  once: JSON []dumpSequence, the values to setval
//	'Z'  once: JSON dumpTrailer (tables and rows in total)
//
// Data frames carry at most maxFrame bytes and need not end on a row
// boundary, so memory stays bounded whatever the table's size; the schema
// SQL is held in memory on restore (it is small next to the data).
// Integrity and truncation are the encryption stream's business; the
// order and the counts are checked again here to catch a writer's bug.
const (
	dumpMagic   = "BYOKDUMP"
	dumpVersion = 1
	maxFrame    = 1 << 20
	frameHeader = 5
	// maxSQL bounds a schema section on restore.
	maxSQL = 256 << 20
)

// Frame kinds.
const (
	frameHeaderJSON byte = 'H'
	framePreData    byte = 'P'
	frameTable      byte = 'T'
	frameData       byte = 'D'
	frameTableEnd   byte = 'E'
	framePostData   byte = 'O'
	frameSequences  byte = 'Q'
	frameTrailer    byte = 'Z'
)

// COPY formats of the data frames. A table is copied in binary, which
// costs the server least, unless a column's type lacks binary I/O.
const (
	copyText   = "text"
	copyBinary = "binary"
)

// errMalformed: the decrypted dump breaks the format above.
var errMalformed = errors.New("malformed dump")

// dumpHeader is the 'H' frame.
type dumpHeader struct {
	Format        int       `json:"format"`
	BackupID      string    `json:"backup_id"`
	Database      string    `json:"database"`
	ServerVersion string    `json:"server_version"`
	CreatedAt     time.Time `json:"created_at"`
}

// dumpTable is a 'T' frame: a table, the columns its data frames carry,
// in order (generated and dropped columns excluded), and their COPY format.
type dumpTable struct {
	Schema  string   `json:"schema"`
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Format  string   `json:"format"`
}

// dumpSequence is a sequence's value, restored with setval.
type dumpSequence struct {
	Schema    string `json:"schema"`
	Name      string `json:"name"`
	LastValue int64  `json:"last_value"`
	IsCalled  bool   `json:"is_called"`
}

// dumpTrailer is the 'Z' frame.
type dumpTrailer struct {
	Tables int   `json:"tables"`
	Rows   int64 `json:"rows"`
}

// dumpWriter writes a dump to w (the encryption Writer) through a pipe,
// so w works on its own goroutine. Data written with Write goes into 'D'
// frames of up to maxFrame bytes, assembled in the pipe's reused buffers,
// so copying a table allocates nothing per row. Errors are sticky; close
// must be called, also after an error, to stop the pipe.
type dumpWriter struct {
	p   *pipe
	buf []byte // the data frame being assembled: frameHeader bytes of room, then payload
	err error
}

func newDumpWriter(w io.Writer) *dumpWriter {
	d := &dumpWriter{p: newPipe(w, frameHeader+maxFrame)}
	d.buf = d.p.buffer()[:frameHeader]
	d.err = d.p.send(block{b: append([]byte(dumpMagic), dumpVersion)})
	return d
}

// frame writes one frame of kind with payload, split into frames of at
// most maxFrame bytes, after the pending data.
func (d *dumpWriter) frame(kind byte, payload []byte) error {
	return d.send(block{b: appendFrames(nil, kind, payload)})
}

// later queues frames that are not known yet: the pipe writes them, in
// their place, once ch delivers them (encoded with appendFrames), and
// meanwhile lets the producer run ahead by a bounded amount.
func (d *dumpWriter) later(ch <-chan late) error { return d.send(block{later: ch}) }

// send queues blk after the pending data.
func (d *dumpWriter) send(blk block) error {
	if d.flush() == nil {
		d.err = d.p.send(blk)
	}
	return d.err
}

// appendFrames appends payload to b as frames of kind of at most maxFrame
// bytes each (one empty frame for an empty payload).
func appendFrames(b []byte, kind byte, payload []byte) []byte {
	for first := true; first || len(payload) > 0; first = false {
		n := min(len(payload), maxFrame)
		b = append(b, kind)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		b = append(b, payload[:n]...)
		payload = payload[n:]
	}
	return b
}

// jsonFrame writes v as one JSON frame of kind.
func (d *dumpWriter) jsonFrame(kind byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode dump frame %q: %w", kind, err)
	}
	return d.frame(kind, b)
}

// Write appends table data, handing a 'D' frame to the pipe whenever
// maxFrame bytes are pending. It is the io.Writer a COPY ... TO STDOUT
// writes into.
func (d *dumpWriter) Write(p []byte) (int, error) {
	written := 0
	for d.err == nil && len(p) > 0 {
		n := min(len(p), cap(d.buf)-len(d.buf))
		d.buf = append(d.buf, p[:n]...)
		p, written = p[n:], written+n
		if len(d.buf) == cap(d.buf) {
			d.flush()
		}
	}
	return written, d.err
}

// flush hands the pending data to the pipe as one 'D' frame and takes a
// free buffer for the next.
func (d *dumpWriter) flush() error {
	if d.err != nil || len(d.buf) == frameHeader {
		return d.err
	}
	d.buf[0] = frameData
	binary.BigEndian.PutUint32(d.buf[1:frameHeader], uint32(len(d.buf)-frameHeader))
	d.err = d.p.send(block{b: d.buf, pooled: true})
	d.buf = d.p.buffer()[:frameHeader]
	return d.err
}

// endTable flushes the table's data and writes its 'E' frame.
func (d *dumpWriter) endTable(rows int64) error {
	return d.frame(frameTableEnd, binary.BigEndian.AppendUint64(nil, uint64(rows)))
}

// close writes the pending data, waits for the pipe to write everything
// and returns the first error.
func (d *dumpWriter) close() error {
	d.flush()
	if err := d.p.close(); d.err == nil {
		d.err = err
	}
	return d.err
}
