package activities

import (
	"context"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

func TestCheckBackupRestorable_ActiveKeyRestores(t *testing.T) {
	h := newCatalogHarness(t)
	key := h.rootKey("orders-root")
	h.instanceOn("orders-db", key.ID)
	h.backup(backupID, "orders-db", key.ID)

	var res contract.CheckBackupRestorableResult
	err := h.run(contract.ActivityCheckBackupRestorable, contract.CheckBackupRestorableInput{BackupID: backupID}, &res)

	require.NoError(t, err)
	require.Equal(t, h.emu.Dev.KPInstanceID, res.KPInstanceID)
	require.Equal(t, backupID, res.Backup.BackupID)
	require.Equal(t, key.ID, res.Backup.RootKeyID)
	require.Equal(t, []byte("wrapped-"+backupID), res.Backup.WrappedDEK)
	require.Equal(t, contract.BackupAAD(backupID), res.Backup.AAD)
	require.Equal(t, backupID+".byok", res.Backup.Location)
}

func TestCheckBackupRestorable_Rejects(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(h *harness, keyID string)
		wantType  string
		fragments []string
	}{
		{"destroyed key", func(h *harness, keyID string) { h.deleteKey(keyID) },
			contract.ErrTypeBackupUnrecoverable, []string{"restore backup " + backupID + ": root key ",
				" is destroyed; this backup cannot be restored"}},
		{"disabled key", func(h *harness, keyID string) {
			require.NoError(h.t, h.operator.DisableKey(context.Background(), keyID))
		}, contract.ErrTypeKeySuspended, []string{" is disabled: re-enable root key ", "and retry"}},
		{"backup marked unrecoverable", func(h *harness, _ string) {
			_, err := h.cat.SetBackupState(context.Background(), backupID, catalog.BackupUnrecoverable)
			require.NoError(h.t, err)
		}, contract.ErrTypeBackupUnrecoverable, []string{"this backup cannot be restored"}},
		{"backup failed", func(h *harness, _ string) {
			_, err := h.cat.SetBackupState(context.Background(), backupID, catalog.BackupFailed)
			require.NoError(h.t, err)
		}, contract.ErrTypeBackupNotFound, []string{"the backup is failed, not complete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newCatalogHarness(t)
			key := h.rootKey("orders-root")
			h.instanceOn("orders-db", key.ID)
			h.backup(backupID, "orders-db", key.ID)
			tt.setup(h, key.ID)

			err := h.run(contract.ActivityCheckBackupRestorable, contract.CheckBackupRestorableInput{BackupID: backupID}, nil)

			requireTyped(t, err, tt.wantType, tt.fragments...)
		})
	}
}

func TestCheckBackupRestorable_UnknownBackupIsBackupNotFound(t *testing.T) {
	h := newCatalogHarness(t)

	err := h.run(contract.ActivityCheckBackupRestorable, contract.CheckBackupRestorableInput{BackupID: "nope-1"}, nil)

	requireTyped(t, err, contract.ErrTypeBackupNotFound, "restore backup nope-1: no such backup")
}

func TestListBackupKeys_OnlyCompleteBackupsOfTheInstance(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	h.instanceOn("other-db", "key-1")
	h.backup("orders-db-1", "orders-db", "key-1")
	h.backup("orders-db-2", "orders-db", "key-1")
	h.backup("other-db-1", "other-db", "key-1")
	require.NoError(t, h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: "orders-db-3", InstanceID: "orders-db", RootKeyID: "key-1"}, nil))

	var res contract.ListBackupKeysResult
	require.NoError(t, h.run(contract.ActivityListBackupKeys, contract.ListBackupKeysInput{InstanceID: "orders-db"}, &res))

	var ids []string
	for _, b := range res.Backups {
		ids = append(ids, b.BackupID)
		require.Equal(t, "v1", b.KeyVersionID)
	}
	require.Equal(t, []string{"orders-db-1", "orders-db-2"}, ids)
}

func TestUpdateBackupKey_RecordsLineageOnce(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	h.backup(backupID, "orders-db", "key-1")
	h.backup("orders-db-gone", "orders-db", "key-1")
	_, err := h.cat.SetBackupState(context.Background(), "orders-db-gone", catalog.BackupDeleted)
	require.NoError(t, err)
	in := contract.UpdateBackupKeyInput{BackupID: backupID, KeyVersionID: "v2", WrappedDEK: []byte("under-v2"),
		RequestedBy: "bob"}

	require.NoError(t, h.run(contract.ActivityUpdateBackupKey, in, nil))
	require.NoError(t, h.run(contract.ActivityUpdateBackupKey, in, nil), "retry")
	in.BackupID = "orders-db-gone"
	require.NoError(t, h.run(contract.ActivityUpdateBackupKey, in, nil), "a deleted backup has nothing to rewrap")
	in.BackupID = "nope-1"
	unknown := h.run(contract.ActivityUpdateBackupKey, in, nil)

	got := h.storedBackup(backupID)
	require.Equal(t, "v2", got.KeyVersionID)
	require.Equal(t, []byte("under-v2"), got.WrappedDEK)
	require.Equal(t, "v1", h.storedBackup("orders-db-gone").KeyVersionID)
	requireTyped(t, unknown, contract.ErrTypeBackupNotFound, "record key version v2 of backup nope-1")
	require.Equal(t, 1, countOps(h.auditOps("orders-db"), "backup.key-version"))
}

// deleteKey deletes a key with the operator client.
func (h *harness) deleteKey(keyID string) {
	h.t.Helper()
	_, err := h.operator.DeleteKey(context.Background(), keyID, kp.ReturnMinimal)
	require.NoError(h.t, err)
}
