package node

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/byokflow/byokflow/contract"
)

// markerPrefix begins the comment that a committed restore leaves on the
// target database:
//
//	byokflow restore: {"backup_id":"...","bytes":...,"tables":...,"rows":...}
//
// It is written in the restore's own transaction, so it exists exactly when
// the data does, and a retry whose earlier attempt committed finds it. A
// comment on the database is not part of the restored schema, and pg_dump
// leaves it out of later backups of the instance.
const markerPrefix = "byokflow restore: "

// restoreMarker is the marker's JSON.
type restoreMarker struct {
	BackupID string `json:"backup_id"`
	Bytes    int64  `json:"bytes"`
	Tables   int    `json:"tables"`
	Rows     int64  `json:"rows"`
}

// objectsSQL counts the tables, views and sequences a restore would clash
// with.
const objectsSQL = `SELECT count(*) FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ` + userRelations

// target is a restore's session on the new instance's database: one
// transaction that loads everything, or nothing.
type target struct {
	conn     *pgx.Conn
	tx       pgx.Tx
	database string
}

// openTarget connects to database and begins the restore's transaction.
// When an earlier attempt of the same backup committed, it returns that
// attempt's result instead (and no target).
func (c dataConfig) openTarget(ctx context.Context, database, backupID string) (*target, *contract.RestoreDatabaseResult, error) {
	conn, err := c.connect(ctx, database)
	if err != nil {
		return nil, nil, err
	}
	t := &target{conn: conn, database: database}
	done, err := t.begin(ctx, backupID)
	if err != nil || done != nil {
		t.close()
		return nil, done, err
	}
	return t, nil, nil
}

// begin starts the transaction, takes the database's restore lock and
// checks that the database is empty or already holds this backup.
func (t *target) begin(ctx context.Context, backupID string) (*contract.RestoreDatabaseResult, error) {
	var err error
	if t.tx, err = t.conn.Begin(ctx); err != nil {
		return nil, err
	}
	// Everything the restore makes belongs to the instance's admin role,
	// as if the operator had made it; the agent's own session is the
	// superuser's, over the server's unix socket.
	if _, err = t.tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{contract.AdminRole}.Sanitize()); err != nil {
		return nil, err
	}
	var locked bool
	err = t.tx.QueryRow(ctx, "SELECT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext($1))",
		"byokflow restore "+t.database).Scan(&locked)
	if err != nil {
		return nil, err
	}
	if !locked {
		return nil, fmt.Errorf("another restore into database %s is running: will retry", t.database)
	}
	m, err := t.marker(ctx)
	if err != nil {
		return nil, err
	}
	if m != nil {
		return t.earlier(*m, backupID)
	}
	return nil, t.checkEmpty(ctx)
}

// marker reads the restore marker of the database, if any.
func (t *target) marker(ctx context.Context) (*restoreMarker, error) {
	var comment *string
	err := t.tx.QueryRow(ctx, `SELECT pg_catalog.shobj_description(d.oid, 'pg_database')
FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()`).Scan(&comment)
	if err != nil || comment == nil || !strings.HasPrefix(*comment, markerPrefix) {
		return nil, err
	}
	var m restoreMarker
	if err := json.Unmarshal([]byte(strings.TrimPrefix(*comment, markerPrefix)), &m); err != nil {
		return nil, fmt.Errorf("read restore marker of database %s: %w", t.database, err)
	}
	return &m, nil
}

// earlier is the result of the committed restore m, when it restored
// backupID; a database holding another backup is refused.
func (t *target) earlier(m restoreMarker, backupID string) (*contract.RestoreDatabaseResult, error) {
	if m.BackupID != backupID {
		return nil, contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("database %s already holds "+
			"backup %s: restore backup %s into a new instance", t.database, m.BackupID, backupID), nil)
	}
	return &contract.RestoreDatabaseResult{Bytes: m.Bytes, Tables: m.Tables, Rows: m.Rows}, nil
}

// checkEmpty refuses a database that holds tables, views or sequences.
func (t *target) checkEmpty(ctx context.Context) error {
	var n int64
	if err := t.tx.QueryRow(ctx, objectsSQL).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("database %s is not empty: it holds "+
		"%d tables, views or sequences that no restore made: restore into a new instance", t.database, n), nil)
}

// commit writes the restore marker and commits the transaction.
func (t *target) commit(ctx context.Context, backupID string, res contract.RestoreDatabaseResult) error {
	b, err := json.Marshal(restoreMarker{BackupID: backupID, Bytes: res.Bytes, Tables: res.Tables, Rows: res.Rows})
	if err != nil {
		return err
	}
	literal := "'" + strings.ReplaceAll(markerPrefix+string(b), "'", "''") + "'"
	if _, err := t.tx.Exec(ctx, "COMMENT ON DATABASE "+pgx.Identifier{t.database}.Sanitize()+" IS "+literal); err != nil {
		return err
	}
	return t.tx.Commit(ctx)
}

// close rolls back what was not committed and closes the connection.
func (t *target) close() {
	ctx := context.Background()
	if t.tx != nil {
		_ = t.tx.Rollback(ctx)
	}
	_ = t.conn.Close(ctx)
}
