package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/testenv"
)

const testBackupID = "bk-orders-db-001"

// newDataHarness is newHarness with the agent's data path configured: a
// backup store in a temporary directory and BYOK_TEST_DATABASE's server
// for the instance databases (tier 3).
func newDataHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.backupDir = t.TempDir()
	h.databaseURL = testenv.DatabaseURL(t)
	h.restart()
	return h
}

// scratchDB creates an empty database with a unique name on the test
// server and drops it when the test ends.
func (h *harness) scratchDB() string {
	h.t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "byok_test_" + hex.EncodeToString(b)
	h.adminExec("CREATE DATABASE " + name)
	h.t.Cleanup(func() { h.adminExec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	return name
}

func (h *harness) adminExec(sql string) {
	h.t.Helper()
	conn, err := pgx.Connect(h.ctx, h.databaseURL)
	require.NoError(h.t, err)
	defer conn.Close(h.ctx)
	_, err = conn.Exec(h.ctx, sql)
	require.NoError(h.t, err, sql)
}

// db connects to database name of the test server, closed at the end.
func (h *harness) db(name string) *pgx.Conn {
	h.t.Helper()
	conn, err := h.agent.data.connect(h.ctx, name)
	require.NoError(h.t, err)
	h.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func (h *harness) backupInput(database, backupID string) contract.BackupDatabaseInput {
	return contract.BackupDatabaseInput{InstanceID: testInstance, NodeID: "orders-db-1", BackupID: backupID,
		DatabaseName: database, RootKeyID: h.rootKey, AAD: contract.BackupAAD(backupID)}
}

func (h *harness) backup(in contract.BackupDatabaseInput) (contract.BackupDatabaseResult, error) {
	val, err := h.env.ExecuteActivity(contract.ActivityBackupDatabase, in)
	var res contract.BackupDatabaseResult
	if err == nil {
		require.NoError(h.t, val.Get(&res))
	}
	return res, err
}

func (h *harness) mustBackup(database string) contract.BackupDatabaseResult {
	h.t.Helper()
	res, err := h.backup(h.backupInput(database, testBackupID))
	require.NoError(h.t, err)
	return res
}

// restoreInput restores backup b into database, as the workflow would from
// the catalog's record.
func restoreInput(b contract.BackupDatabaseResult, database string) contract.RestoreDatabaseInput {
	return contract.RestoreDatabaseInput{InstanceID: "orders-db-copy", NodeID: "orders-db-copy-1",
		DatabaseName: database, BackupID: b.BackupID, Location: b.Location, SHA256: b.SHA256,
		RootKeyID: b.RootKeyID, KeyVersionID: b.KeyVersionID, WrappedDEK: b.WrappedDEK,
		AAD: contract.BackupAAD(b.BackupID)}
}

func (h *harness) restoreDB(in contract.RestoreDatabaseInput) (contract.RestoreDatabaseResult, error) {
	val, err := h.env.ExecuteActivity(contract.ActivityRestoreDatabase, in)
	var res contract.RestoreDatabaseResult
	if err == nil {
		require.NoError(h.t, val.Get(&res))
	}
	return res, err
}

// backupFile is the path of backup b in the store.
func (h *harness) backupFile(b contract.BackupDatabaseResult) string {
	return filepath.Join(h.backupDir, b.Location)
}

// rewriteBackup replaces backup b's file with change(file) and returns b
// with the new file's SHA-256 when keepSum is false (the catalog record
// of a file changed before its checksum was taken).
func (h *harness) rewriteBackup(b contract.BackupDatabaseResult, change func([]byte) []byte,
	keepSum bool) contract.BackupDatabaseResult {
	h.t.Helper()
	raw, err := os.ReadFile(h.backupFile(b))
	require.NoError(h.t, err)
	raw = change(raw)
	require.NoError(h.t, os.WriteFile(h.backupFile(b), raw, 0o600))
	if !keepSum {
		sum, _, err := fileSHA256(bytes.NewReader(raw), &progress{})
		require.NoError(h.t, err)
		b.SHA256 = sum
	}
	return b
}

// userTables lists the tables of database, to prove a failed restore left
// nothing behind.
func (h *harness) userTables(database string) []string {
	h.t.Helper()
	rows, err := h.db(database).Query(h.ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	require.NoError(h.t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(h.t, err)
	return names
}

// requireType fails unless err is an application error of errType whose
// message contains every part.
func requireType(t *testing.T, err error, errType string, parts ...string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, errType, contract.ErrorType(err), "error: %v", err)
	for _, p := range parts {
		require.ErrorContains(t, err, p)
	}
}

// timed logs how long fn took, for the slower tier-3 tests.
func timed(t *testing.T, what string, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	t.Logf("%s took %v", what, time.Since(start).Round(time.Millisecond))
}
