package node

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/encryption"
)

func TestBackupDatabase_FileIsEncryptedAndDescribed(t *testing.T) {
	h := newDataHarness(t)
	src := h.scratchDB()
	h.fillFixture(src, 500)
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
	entries, err := os.ReadDir(h.backupDir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")
}

func TestBackupDatabase_RetryRewritesUnderFreshDEK(t *testing.T) {
	h := newDataHarness(t)
	src := h.scratchDB()
	h.fillFixture(src, 50)
	first := h.mustBackup(src)
	require.NoError(t, os.WriteFile(filepath.Join(h.backupDir, testBackupID+".byok.tmp"), []byte("partial"), 0o600))

	second := h.mustBackup(src)
	require.NotEqual(t, first.WrappedDEK, second.WrappedDEK)
	require.NotEqual(t, first.SHA256, second.SHA256)
	_, err := os.Stat(filepath.Join(h.backupDir, testBackupID+".byok.tmp"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = h.restoreDB(restoreInput(second, h.scratchDB()))
	require.NoError(t, err)
}

func TestBackupDatabase_LargeObjectsAreRefused(t *testing.T) {
	h := newDataHarness(t)
	src := h.scratchDB()
	_, err := h.db(src).Exec(h.ctx, "SELECT lo_from_bytea(0, 'blob')")
	require.NoError(t, err)
	_, err = h.backup(h.backupInput(src, testBackupID))
	requireType(t, err, contract.ErrTypeInvalidInput, "1 large objects", "bytea")
}

func TestBackupDatabase_MissingDatabaseIsInvalidInput(t *testing.T) {
	h := newDataHarness(t)
	_, err := h.backup(h.backupInput("byok_test_no_such_db", testBackupID))
	requireType(t, err, contract.ErrTypeInvalidInput, "database byok_test_no_such_db does not exist")
}

func TestBackupDatabase_PlaintextDEKNeverLeavesTheAgent(t *testing.T) {
	h := newDataHarness(t)
	src := h.scratchDB()
	h.fillFixture(src, 50)
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

// nullCatalog is a Catalog for agents that never reach it.
type nullCatalog struct{}

func (nullCatalog) UpsertHost(context.Context, string, string) (catalog.Host, error) {
	return catalog.Host{}, nil
}
func (nullCatalog) AppendReport(_ context.Context, r catalog.KeyStatusReport) (catalog.KeyStatusReport, error) {
	return r, nil
}
func (nullCatalog) GetInstance(context.Context, string) (catalog.Instance, error) {
	return catalog.Instance{}, catalog.ErrNotFound
}

func TestBackupDatabase_AgentWithoutBackupStoreRefuses(t *testing.T) {
	a, err := New(Config{Host: testHost, DataDir: t.TempDir(), Wrapper: nullWrapper{}, Catalog: nullCatalog{}})
	require.NoError(t, err)
	defer a.Close()
	_, err = a.BackupDatabase(context.Background(), contract.BackupDatabaseInput{InstanceID: testInstance,
		NodeID: "orders-db-1", BackupID: testBackupID, DatabaseName: "byok_orders_db", RootKeyID: "k",
		AAD: contract.BackupAAD(testBackupID)})
	requireType(t, err, contract.ErrTypeInvalidInput, "BYOK_BACKUP_DIR and BYOK_DATABASE_URL")
	_, err = a.RestoreDatabase(context.Background(), contract.RestoreDatabaseInput{InstanceID: testInstance,
		NodeID: "orders-db-1", BackupID: testBackupID, DatabaseName: "byok_orders_db", RootKeyID: "k",
		WrappedDEK: []byte("w"), SHA256: string(bytes.Repeat([]byte("a"), 64)), AAD: []string{"x"}})
	requireType(t, err, contract.ErrTypeInvalidInput, "BYOK_BACKUP_DIR and BYOK_DATABASE_URL")
}

func TestBackupDatabase_InvalidInputIsRefused(t *testing.T) {
	a, err := New(Config{Host: testHost, DataDir: t.TempDir(), Wrapper: nullWrapper{}, Catalog: nullCatalog{},
		BackupDir: t.TempDir(), DatabaseURL: "postgres://localhost/x"})
	require.NoError(t, err)
	defer a.Close()
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
			_, err := a.BackupDatabase(context.Background(), in)
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
