package node

import (
	"context"
	"io"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
)

// dump writes database in.DatabaseName as an encrypted dump to dst and
// returns what it copied. The source transaction and both pg_dump runs
// share one snapshot. pg_dump runs while the first rows are copied: its
// pre-data frames are queued in their place, ahead of the data, and the
// pipe holds the data back (a bounded amount) until they arrive.
func (a *Agent) dump(ctx context.Context, c dataConfig, in contract.BackupDatabaseInput, dst io.Writer,
	dek *encryption.DataKey, wk encryption.WrappedKey) (dumpTrailer, error) {
	heartbeat(ctx, "open snapshot")
	src, err := c.openSource(ctx, in.DatabaseName)
	if err != nil {
		return dumpTrailer{}, err
	}
	defer src.close()
	pre := c.schemaDumpLate(ctx, in.DatabaseName, src.snapshot, "pre-data", framePreData)
	post := c.schemaDumpLate(ctx, in.DatabaseName, src.snapshot, "post-data", framePostData)
	ew, err := encryption.NewWriter(dst, dek, encryption.HeaderInfo{Key: wk, Context: in.BackupID},
		encryption.WithParallelism(streamWorkers))
	if err != nil {
		return dumpTrailer{}, err
	}
	defer ew.Close() // stops the workers on an early return; a no-op after Close
	d := newDumpWriter(ew)
	defer d.close() // stops the pipe, before ew.Close, on an early return
	_ = d.jsonFrame(frameHeaderJSON, dumpHeader{Format: dumpVersion, BackupID: in.BackupID,
		Database: in.DatabaseName, ServerVersion: src.serverVersion(), CreatedAt: a.now().UTC()})
	if err := d.later(pre); err != nil {
		return dumpTrailer{}, err
	}
	stats, err := copyTables(ctx, src, d)
	if err == nil {
		err = finishDump(ctx, src, d, post, stats)
	}
	if err == nil {
		err = d.close()
	}
	if err != nil {
		return stats, err
	}
	return stats, ew.Close()
}

// copyTables copies every table of src into d.
func copyTables(ctx context.Context, src *source, d *dumpWriter) (dumpTrailer, error) {
	var stats dumpTrailer
	for _, t := range src.tables {
		rows, err := src.copyTable(ctx, t, d)
		if err != nil {
			return stats, err
		}
		stats.Tables++
		stats.Rows += rows
	}
	return stats, nil
}

// finishDump writes the post-data schema, the sequence values and the
// trailer.
func finishDump(ctx context.Context, src *source, d *dumpWriter, post <-chan late, stats dumpTrailer) error {
	p := <-post
	if p.err != nil {
		return p.err
	}
	if err := d.send(block{b: p.b}); err != nil {
		return err
	}
	seqs, err := src.sequences(ctx)
	if err != nil {
		return err
	}
	if seqs == nil {
		seqs = []dumpSequence{}
	}
	if err := d.jsonFrame(frameSequences, seqs); err != nil {
		return err
	}
	return d.jsonFrame(frameTrailer, stats)
}
