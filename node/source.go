package node

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/byokflow/byokflow/contract"
)

// userRelations restricts a pg_class query (alias c, namespace n) to what
// a dump carries: no system schema, no object of an extension (the
// extension's script makes those).
const userRelations = `n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')`

// tablesSQL lists the tables whose rows a dump copies, with the columns
// COPY carries (generated and dropped ones excluded), in a stable order,
// and whether every column's type has binary I/O. Partitioned tables hold
// no rows themselves: their partitions are copied.
const tablesSQL = `SELECT n.nspname, c.relname,
  coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}'),
  coalesce(bool_and(t.typsend::oid <> 0 AND t.typreceive::oid <> 0), true)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
  AND NOT a.attisdropped AND a.attgenerated = ''
LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE c.relkind = 'r' AND ` + userRelations + `
GROUP BY n.nspname, c.relname ORDER BY n.nspname, c.relname`

// sequencesSQL lists the sequences whose values a dump carries, serial and
// identity ones included.
const sequencesSQL = `SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND ` + userRelations + ` ORDER BY 1, 2`

// source is a backup's session on the instance database: one REPEATABLE
// READ, READ ONLY transaction, whose snapshot it exports so that pg_dump
// sees the very state the data is copied in.
type source struct {
	conn     *pgx.Conn
	tx       pgx.Tx
	snapshot string
	tables   []dumpTable
}

// openSource connects to database, begins the snapshot transaction, lists
// the tables and takes ACCESS SHARE locks on them, as pg_dump does, so no
// table is altered or dropped under the backup.
func (c dataConfig) openSource(ctx context.Context, database string) (*source, error) {
	conn, err := c.connect(ctx, database)
	if err != nil {
		return nil, err
	}
	s := &source{conn: conn}
	s.tx, err = conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err == nil {
		err = conn.QueryRow(ctx, "SELECT pg_catalog.pg_export_snapshot()").Scan(&s.snapshot)
	}
	if err == nil {
		err = s.listTables(ctx)
	}
	if err == nil {
		err = s.refuseLargeObjects(ctx, database)
	}
	if err == nil {
		err = s.lockTables(ctx)
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// close ends the transaction and the connection.
func (s *source) close() {
	ctx := context.Background()
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
	}
	_ = s.conn.Close(ctx)
}

// serverVersion is the server's version string.
func (s *source) serverVersion() string { return s.conn.PgConn().ParameterStatus("server_version") }

func (s *source) listTables(ctx context.Context) error {
	rows, err := s.tx.Query(ctx, tablesSQL)
	if err != nil {
		return err
	}
	s.tables, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (dumpTable, error) {
		t := dumpTable{Format: copyText}
		var binaryIO bool
		err := r.Scan(&t.Schema, &t.Name, &t.Columns, &binaryIO)
		if binaryIO {
			t.Format = copyBinary
		}
		return t, err
	})
	return err
}

// refuseLargeObjects fails, permanently, when the database holds large
// objects: they live outside every table, and a dump does not carry them.
func (s *source) refuseLargeObjects(ctx context.Context, database string) error {
	var n int64
	if err := s.tx.QueryRow(ctx, "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("back up database %s: it holds %d "+
		"large objects, which byokflow backups do not carry: move them into bytea columns", database, n), nil)
}

func (s *source) lockTables(ctx context.Context) error {
	if len(s.tables) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("LOCK TABLE ")
	for i, t := range s.tables {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgx.Identifier{t.Schema, t.Name}.Sanitize())
	}
	b.WriteString(" IN ACCESS SHARE MODE")
	_, err := s.tx.Exec(ctx, b.String())
	return err
}

// copyTable writes table t as its 'T' frame, its data frames and its 'E'
// frame, and returns the rows copied. The server's CopyData messages go
// straight into d, one Write each.
func (s *source) copyTable(ctx context.Context, t dumpTable, d *dumpWriter) (int64, error) {
	if err := d.jsonFrame(frameTable, t); err != nil {
		return 0, err
	}
	tag, err := s.conn.PgConn().CopyTo(ctx, d, copySQL(t, "TO STDOUT"))
	if d.err != nil {
		return 0, d.err // the copy failed because the backup file did
	}
	if err != nil {
		return 0, fmt.Errorf("copy table %s.%s: %w", t.Schema, t.Name, err)
	}
	return tag.RowsAffected(), d.endTable(tag.RowsAffected())
}

// sequences reads the value of every sequence. Like pg_dump, it reads the
// current value: sequences are outside transactions.
func (s *source) sequences(ctx context.Context) ([]dumpSequence, error) {
	rows, err := s.tx.Query(ctx, sequencesSQL)
	if err != nil {
		return nil, err
	}
	seqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dumpSequence, error) {
		var q dumpSequence
		err := r.Scan(&q.Schema, &q.Name)
		return q, err
	})
	for i := range seqs {
		if err != nil {
			break
		}
		q := &seqs[i]
		err = s.tx.QueryRow(ctx, "SELECT last_value, is_called FROM "+
			pgx.Identifier{q.Schema, q.Name}.Sanitize()).Scan(&q.LastValue, &q.IsCalled)
	}
	return seqs, err
}

// copySQL is the COPY statement of t in direction ("TO STDOUT" or "FROM
// STDIN"), naming its columns.
func copySQL(t dumpTable, direction string) string {
	var b strings.Builder
	b.WriteString("COPY ")
	b.WriteString(pgx.Identifier{t.Schema, t.Name}.Sanitize())
	if len(t.Columns) > 0 {
		b.WriteString(" (")
		for i, c := range t.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pgx.Identifier{c}.Sanitize())
		}
		b.WriteString(")")
	}
	b.WriteString(" " + direction)
	if t.Format == copyBinary {
		b.WriteString(" (FORMAT binary)")
	}
	return b.String()
}
