package node

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

const testBackupID = "bk-orders-db-001"

// newDataHarness is a harness with the agent's data path configured: a
// backup store in a temporary directory, and h.src, a serving primary
// (node orders-db-1 of orders-db) whose server holds the test databases.
func newDataHarness(t testing.TB) *harness {
	t.Helper()
	h := newHarnessOn(t, dataVolumeMiB)
	h.backupDir = t.TempDir()
	h.restart()
	h.src = h.startPrimary(testInstance, "orders-db-1", testDatabase)
	return h
}

// dataCase is one case of a test that runs several on one primary.
type dataCase struct {
	name string
	run  func(t *testing.T, h *harness)
}

// runOnOnePrimary runs cases one after the other, each as a subtest, on
// one data harness: cases that change nothing but their own scratch
// databases and backups need no server of their own.
func runOnOnePrimary(t *testing.T, cases []dataCase) {
	t.Helper()
	h := newDataHarness(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, h.on(t)) })
	}
}

// scratchDB creates an empty database with a unique name on the server of
// h.src, owned by the admin role, as the operator would.
func (h *harness) scratchDB() string { return h.scratchDBOn(h.src) }

func (h *harness) scratchDBOn(s serving) string {
	h.t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "byok_test_" + hex.EncodeToString(b)
	_, err := h.conn(s, s.database).Exec(h.ctx, "CREATE DATABASE "+name)
	require.NoError(h.t, err)
	return name
}

// db logs in to database name on h.src's server as the admin role; one
// connection per database, kept until the test ends.
func (h *harness) db(name string) *pgx.Conn {
	h.t.Helper()
	if c, ok := h.dbs[name]; ok {
		return c
	}
	if h.dbs == nil {
		h.dbs = map[string]*pgx.Conn{}
	}
	h.dbs[name] = h.conn(h.src, name)
	return h.dbs[name]
}

func (h *harness) backupInput(database, backupID string) contract.BackupDatabaseInput {
	return contract.BackupDatabaseInput{InstanceID: h.src.instance, NodeID: h.src.node, BackupID: backupID,
		DatabaseName: database, RootKeyID: h.rootKey, AAD: contract.BackupAAD(backupID)}
}

func (h *harness) backup(in contract.BackupDatabaseInput) (contract.BackupDatabaseResult, error) {
	return result[contract.BackupDatabaseResult](h, contract.ActivityBackupDatabase, in)
}

func (h *harness) mustBackup(database string) contract.BackupDatabaseResult {
	h.t.Helper()
	res, err := h.backup(h.backupInput(database, testBackupID))
	require.NoError(h.t, err)
	return res
}

// restoreInput restores backup b into database on the server of node s,
// as the workflow would from the catalog's record.
func restoreInput(b contract.BackupDatabaseResult, s serving, database string) contract.RestoreDatabaseInput {
	return contract.RestoreDatabaseInput{InstanceID: s.instance, NodeID: s.node,
		DatabaseName: database, BackupID: b.BackupID, Location: b.Location, SHA256: b.SHA256,
		RootKeyID: b.RootKeyID, KeyVersionID: b.KeyVersionID, WrappedDEK: b.WrappedDEK,
		AAD: contract.BackupAAD(b.BackupID)}
}

func (h *harness) restoreDB(in contract.RestoreDatabaseInput) (contract.RestoreDatabaseResult, error) {
	return result[contract.RestoreDatabaseResult](h, contract.ActivityRestoreDatabase, in)
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

// userTables lists the tables of database on h.src's server, to prove a
// failed restore left nothing behind.
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
func requireType(t testing.TB, err error, errType string, parts ...string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, errType, contract.ErrorType(err), "error: %v", err)
	for _, p := range parts {
		require.ErrorContains(t, err, p)
	}
}

// timed logs how long fn took, for the slower tests.
func timed(t testing.TB, what string, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	t.Logf("%s took %v", what, time.Since(start).Round(time.Millisecond))
}
