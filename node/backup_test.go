package node

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/encryption"
)

// TestBackupDatabase_FromAServingPrimary runs, on one primary node, the
// backup cases that touch only their own scratch databases and backups.
func TestBackupDatabase_FromAServingPrimary(t *testing.T) {
	t.Parallel()
	runOnOnePrimary(t, []dataCase{
		{"file is encrypted and described", backupFileIsEncryptedAndDescribed},
		{"retry rewrites under a fresh DEK", backupRetryRewritesUnderFreshDEK},
		{"large objects are refused", backupLargeObjectsAreRefused},
		{"missing database is invalid input", backupMissingDatabaseIsInvalidInput},
		{"plaintext DEK never leaves the agent", backupPlaintextDEKNeverLeavesTheAgent},
		{"copies in binary unless a type lacks binary I/O", openSourceCopiesInBinaryUnlessATypeLacksIt},
	})
}

func backupFileIsEncryptedAndDescribed(t *testing.T, h *harness) {
	src := h.scratchDB()
	h.fillFixture(h.db(src), 500)
	wraps := h.stats(emulator.OpWrap)
	b := h.mustBackup(src)

	raw, err := os.ReadFile(h.backupFile(b))
	require.NoError(t, err)
	require.False(t, bytes.Contains(raw, []byte(plaintextMarker)), "plaintext row content in the backup file")
	require.False(t, bytes.Contains(raw, []byte("CREATE TABLE")), "plaintext schema in the backup file")
	require.Equal(t, testBackupID+".byok", b.Location)
	require.Equal(t, int64(len(raw)), b.Bytes)
	sum, _, err := fileSHA256(bytes.NewReader(raw), &progress{})
	require.NoError(t, err)
	require.Equal(t, sum, b.SHA256)
	require.Equal(t, h.rootKey, b.RootKeyID)
	require.Equal(t, h.keyVersion(), b.KeyVersionID)
	require.Equal(t, wraps+1, h.stats(emulator.OpWrap), "one fresh backup DEK wrapped")
	hdr, err := encryption.ReadHeader(bytes.NewReader(raw))
	require.NoError(t, err)
	require.Equal(t, testBackupID, hdr.Info().Context)
	require.Equal(t, b.WrappedDEK, hdr.Info().Key.Ciphertext)
	tmp, err := filepath.Glob(filepath.Join(h.backupDir, "*"+tmpExt))
	require.NoError(t, err)
	require.Empty(t, tmp, "no temporary file left")
}

func backupRetryRewritesUnderFreshDEK(t *testing.T, h *harness) {
	src := h.scratchDB()
	h.fillFixture(h.db(src), 50)
	first := h.mustBackup(src)
	require.NoError(t, os.WriteFile(filepath.Join(h.backupDir, testBackupID+".byok.tmp"), []byte("partial"), 0o600))

	second := h.mustBackup(src)
	require.NotEqual(t, first.WrappedDEK, second.WrappedDEK)
	require.NotEqual(t, first.SHA256, second.SHA256)
	_, err := os.Stat(filepath.Join(h.backupDir, testBackupID+".byok.tmp"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = h.restoreDB(restoreInput(second, h.src, h.scratchDB()))
	require.NoError(t, err)
}

func backupLargeObjectsAreRefused(t *testing.T, h *harness) {
	src := h.scratchDB()
	_, err := h.db(src).Exec(h.ctx, "SELECT lo_from_bytea(0, 'blob')")
	require.NoError(t, err)
	_, err = h.backup(h.backupInput(src, testBackupID))
	requireType(t, err, contract.ErrTypeInvalidInput, "1 large objects", "bytea")
}

func backupMissingDatabaseIsInvalidInput(t *testing.T, h *harness) {
	_, err := h.backup(h.backupInput("byok_test_no_such_db", testBackupID))
	requireType(t, err, contract.ErrTypeInvalidInput, "database byok_test_no_such_db does not exist")
}

func backupPlaintextDEKNeverLeavesTheAgent(t *testing.T, h *harness) {
	src := h.scratchDB()
	h.fillFixture(h.db(src), 50)
	b := h.mustBackup(src)
	dek, _, err := h.agent.wrappers.def.UnwrapKey(h.ctx, encryption.WrappedKey{RootKeyID: b.RootKeyID,
		KeyVersion: b.KeyVersionID, Ciphertext: b.WrappedDEK}, contract.BackupAAD(b.BackupID))
	require.NoError(t, err)
	var plain []byte
	require.NoError(t, dek.WithBytes(func(k []byte) error { plain = bytes.Clone(k); return nil }))
	dek.Destroy()

	returned, err := json.Marshal(b)
	require.NoError(t, err)
	requireAbsent(t, returned, plain, "the activity result")
	requireAbsent(t, h.logs.Bytes(), plain, "the logs")
	file, err := os.ReadFile(h.backupFile(b))
	require.NoError(t, err)
	requireAbsent(t, file, plain, "the backup file")
}

func openSourceCopiesInBinaryUnlessATypeLacksIt(t *testing.T, h *harness) {
	src := h.scratchDB()
	h.fillFixture(h.db(src), 10)
	c, err := h.agent.dataFor(h.ctx, "test", h.src.ref())
	require.NoError(t, err)
	s, err := c.openSource(h.ctx, src)
	require.NoError(t, err)
	defer s.close()
	formats := map[string]string{}
	for _, tb := range s.tables {
		formats[tb.Schema+"."+tb.Name] = tb.Format
	}
	require.Equal(t, map[string]string{"archive.Closed Accounts": "binary", "public.customers": "binary",
		"public.events_2024": "binary", "public.events_2025": "binary", "public.grants": "text",
		"public.order_lines": "binary", "public.orders": "binary"}, formats)
}

func TestBackupDatabase_AgentWithoutBackupStoreRefuses(t *testing.T) {
	h := newHarness(t)
	_, err := h.agent.BackupDatabase(h.ctx, contract.BackupDatabaseInput{InstanceID: testInstance,
		NodeID: "orders-db-1", BackupID: testBackupID, DatabaseName: "byok_orders_db", RootKeyID: "k",
		AAD: contract.BackupAAD(testBackupID)})
	requireType(t, err, contract.ErrTypeInvalidInput, "has no backup store", "BYOK_BACKUP_DIR")
	_, err = h.agent.RestoreDatabase(h.ctx, contract.RestoreDatabaseInput{InstanceID: testInstance,
		NodeID: "orders-db-1", BackupID: testBackupID, DatabaseName: "byok_orders_db", RootKeyID: "k",
		WrappedDEK: []byte("w"), SHA256: string(bytes.Repeat([]byte("a"), 64)), AAD: []string{"x"}})
	requireType(t, err, contract.ErrTypeInvalidInput, "has no backup store", "BYOK_BACKUP_DIR")
}

func TestBackupDatabase_NodeWithoutServerIsNotServing(t *testing.T) {
	h := newHarness(t)
	h.backupDir = t.TempDir()
	h.restart()
	h.mustInstall("orders-db-1")
	wraps := h.stats(emulator.OpWrap)
	_, err := h.backup(contract.BackupDatabaseInput{InstanceID: testInstance, NodeID: "orders-db-1",
		BackupID: testBackupID, DatabaseName: "byok_orders_db", RootKeyID: h.rootKey, AAD: contract.BackupAAD(testBackupID)})
	requireType(t, err, contract.ErrTypeNodeNotServing, "node orders-db-1 of instance orders-db does not serve",
		"it has no server yet")
	_, err = h.restoreDB(restoreInput(contract.BackupDatabaseResult{BackupID: testBackupID,
		Location: testBackupID + ".byok", SHA256: strings.Repeat("0", 64), RootKeyID: h.rootKey,
		KeyVersionID: "v", WrappedDEK: []byte("x")}, serving{instance: testInstance, node: "orders-db-2"}, "db"))
	requireType(t, err, contract.ErrTypeNodeNotServing, "node orders-db-2 of instance orders-db does not serve")
	require.Equal(t, wraps, h.stats(emulator.OpWrap), "no backup key wrapped for a node that cannot serve")
}

func TestBackupDatabase_InvalidInputIsRefused(t *testing.T) {
	h := newHarness(t)
	h.backupDir = t.TempDir()
	h.restart()
	good := contract.BackupDatabaseInput{InstanceID: testInstance, NodeID: "orders-db-1", BackupID: testBackupID,
		DatabaseName: "byok_orders_db", RootKeyID: "k", AAD: contract.BackupAAD(testBackupID)}
	for name, change := range map[string]func(*contract.BackupDatabaseInput){
		"backup id with slash": func(in *contract.BackupDatabaseInput) { in.BackupID = "../x" },
		"database with quote":  func(in *contract.BackupDatabaseInput) { in.DatabaseName = `a"b` },
		"no root key":          func(in *contract.BackupDatabaseInput) { in.RootKeyID = "" },
		"no aad":               func(in *contract.BackupDatabaseInput) { in.AAD = nil },
	} {
		t.Run(name, func(t *testing.T) {
			in := good
			change(&in)
			_, err := h.agent.BackupDatabase(h.ctx, in)
			requireType(t, err, contract.ErrTypeInvalidInput)
		})
	}
}

// nullWrapper is a KeyWrapper for agents that never reach Key Protect.
type nullWrapper struct{}

func (nullWrapper) WrapKey(context.Context, string, *encryption.DataKey, []string) (encryption.WrappedKey, error) {
	return encryption.WrappedKey{}, encryption.ErrKMSUnavailable
}
func (nullWrapper) UnwrapKey(context.Context, encryption.WrappedKey, []string) (*encryption.DataKey, *encryption.WrappedKey, error) {
	return nil, nil, encryption.ErrKMSUnavailable
}
