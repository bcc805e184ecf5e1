package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/byokflow/byokflow/encryption"
)

// streamWorkers is the encryption library's parallelism for backup
// streams: AES-GCM costs a few percent of a backup's CPU next to COPY,
// SHA-256 and file I/O, so sealing and opening inline, on the goroutine
// that already moves the bytes, beats handing chunks to helpers.
const streamWorkers = 1

// phases orders the frames after the header (see dump.go).
var phases = map[byte]int{framePreData: 1, frameTable: 2, framePostData: 3, frameSequences: 4, frameTrailer: 5}

// load decrypts the backup stream src with dek (bound to backupID) and
// loads its dump into the target's transaction. It returns only after the
// whole stream was authenticated, so a caller that commits afterwards
// commits nothing that was changed or cut short.
func (t *target) load(ctx context.Context, src io.Reader, dek *encryption.DataKey, backupID string) (dumpTrailer, error) {
	h, err := encryption.ReadHeader(src)
	if err != nil {
		return dumpTrailer{}, err
	}
	r, err := h.Open(src, dek, backupID, encryption.WithParallelism(streamWorkers))
	if err != nil {
		return dumpTrailer{}, err
	}
	defer r.Close()
	d, err := newDumpReader(r)
	if err != nil {
		return dumpTrailer{}, err
	}
	var hdr dumpHeader
	if err := d.expect(frameHeaderJSON, &hdr); err != nil {
		return dumpTrailer{}, err
	}
	if hdr.BackupID != backupID {
		return dumpTrailer{}, fmt.Errorf("%w: the dump is of backup %q", errMalformed, hdr.BackupID)
	}
	l := &loader{conn: t.conn, d: d}
	return l.run(ctx)
}

// loader applies a dump's frames to the target, in order.
type loader struct {
	conn  *pgx.Conn
	d     *dumpReader
	phase int
	sql   []byte      // the schema section being gathered
	stats dumpTrailer // what was loaded
}

func (l *loader) run(ctx context.Context) (dumpTrailer, error) {
	for {
		kind, err := l.d.next()
		if err == nil {
			err = l.enter(ctx, kind)
		}
		if err != nil {
			return l.stats, err
		}
		switch kind {
		case framePreData, framePostData:
			if l.sql, err = l.d.payload(l.sql); err == nil && len(l.sql) > maxSQL {
				err = fmt.Errorf("%w: schema section over %d bytes", errMalformed, maxSQL)
			}
		case frameTable:
			err = l.copyTable(ctx)
		case frameSequences:
			err = l.setSequences(ctx)
		case frameTrailer:
			return l.stats, l.finish()
		}
		if err != nil {
			return l.stats, err
		}
	}
}

// enter checks that kind may follow the frames so far and, when it ends a
// schema section, runs the section's SQL.
func (l *loader) enter(ctx context.Context, kind byte) error {
	p, ok := phases[kind]
	if !ok || p < l.phase || (p == l.phase && (kind == frameSequences || kind == frameTrailer)) {
		return fmt.Errorf("%w: frame %q out of order", errMalformed, kind)
	}
	if kind == frameTrailer && l.phase != phases[frameSequences] {
		return fmt.Errorf("%w: no sequence values before the trailer", errMalformed)
	}
	if p > l.phase && len(l.sql) > 0 {
		// One simple-protocol query runs the whole section; the
		// transaction keeps it atomic with the rest.
		if _, err := l.conn.PgConn().Exec(ctx, string(l.sql)).ReadAll(); err != nil {
			return fmt.Errorf("run the backup's schema SQL: %w", err)
		}
		l.sql = l.sql[:0]
	}
	l.phase = p
	return nil
}

// copyTable loads one table's data frames with COPY ... FROM STDIN.
func (l *loader) copyTable(ctx context.Context) error {
	var t dumpTable
	b, err := l.d.payload(nil)
	if err == nil {
		err = decodeFrame(frameTable, b, &t)
	}
	if err == nil && t.Format != copyText && t.Format != copyBinary {
		err = fmt.Errorf("%w: table %s.%s in COPY format %q", errMalformed, t.Schema, t.Name, t.Format)
	}
	if err != nil {
		return err
	}
	data := &tableData{d: l.d}
	tag, err := l.conn.PgConn().CopyFrom(ctx, data, copySQL(t, "FROM STDIN"))
	if data.err != nil {
		return data.err // the server only saw the copy fail
	}
	if err != nil {
		return fmt.Errorf("load table %s.%s: %w", t.Schema, t.Name, err)
	}
	if !data.done || tag.RowsAffected() != data.rows {
		return fmt.Errorf("%w: table %s.%s: loaded %d rows, the backup holds %d", errMalformed,
			t.Schema, t.Name, tag.RowsAffected(), data.rows)
	}
	l.stats.Tables++
	l.stats.Rows += data.rows
	return nil
}

// setSequences sets every sequence to its value at backup time.
func (l *loader) setSequences(ctx context.Context) error {
	var seqs []dumpSequence
	b, err := l.d.payload(nil)
	if err == nil {
		err = decodeFrame(frameSequences, b, &seqs)
	}
	for _, q := range seqs {
		if err != nil {
			break
		}
		_, err = l.conn.Exec(ctx, "SELECT pg_catalog.setval($1::regclass, $2, $3)",
			pgx.Identifier{q.Schema, q.Name}.Sanitize(), q.LastValue, q.IsCalled)
	}
	return err
}

// finish checks the trailer against what was loaded, and that the stream
// ends right after it: reading to the end is what authenticates its last
// chunk.
func (l *loader) finish() error {
	var z dumpTrailer
	b, err := l.d.payload(nil)
	if err == nil {
		err = decodeFrame(frameTrailer, b, &z)
	}
	if err != nil {
		return err
	}
	if z != l.stats {
		return fmt.Errorf("%w: trailer counts %d tables and %d rows, %d and %d were loaded",
			errMalformed, z.Tables, z.Rows, l.stats.Tables, l.stats.Rows)
	}
	var one [1]byte
	n, err := io.ReadFull(l.d.r, one[:])
	switch {
	case n > 0:
		return fmt.Errorf("%w: data after the trailer", errMalformed)
	case errors.Is(err, io.EOF):
		return nil
	}
	return err
}
