package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

func TestPrune_ErasesTheKeyRecordsTheFileAndRefusesTheRestore(t *testing.T) {
	h := newCatalogHarness(t)
	key := h.rootKey("orders-root")
	h.instanceOn("orders-db", key.ID)
	h.backup(backupID, "orders-db", key.ID)

	var listed contract.ListExpiredBackupsResult
	require.NoError(t, h.run(contract.ActivityListExpiredBackups, contract.ListExpiredBackupsInput{
		InstanceID: "orders-db", Before: time.Now().Add(time.Hour)}, &listed))
	require.Len(t, listed.Backups, 1)
	require.Equal(t, backupID+".byok", listed.Backups[0].Location)

	var erased contract.EraseBackupKeyResult
	erase := contract.EraseBackupKeyInput{BackupID: backupID, Keep: contract.Duration(time.Hour), RequestedBy: "schedule"}
	require.NoError(t, h.run(contract.ActivityEraseBackupKey, erase, &erased))
	require.NoError(t, h.run(contract.ActivityEraseBackupKey, erase, nil), "idempotent")
	b := h.storedBackup(backupID)
	require.Equal(t, catalog.BackupPruned, b.State)
	require.Empty(t, b.WrappedDEK)
	require.True(t, erased.PrunedAt.Equal(*b.PrunedAt))

	require.NoError(t, h.run(contract.ActivityRecordBackupFileDeleted,
		contract.RecordBackupFileDeletedInput{BackupID: backupID, Existed: true, RequestedBy: "schedule"}, nil))
	require.NotNil(t, h.storedBackup(backupID).FileDeletedAt)
	require.Subset(t, h.auditOps("orders-db"), []string{"backup.pruned", "backup.file_deleted"})

	err := h.run(contract.ActivityCheckBackupRestorable, contract.CheckBackupRestorableInput{BackupID: backupID}, nil)
	requireTyped(t, err, contract.ErrTypeBackupPruned, "restore backup "+backupID+": the backup was pruned by retention",
		"at "+erased.PrunedAt.UTC().Format(time.RFC3339), "restore a newer backup of instance orders-db")
}

func TestEraseBackupKey_WritingBackupIsRefused(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	require.NoError(t, h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: backupID, InstanceID: "orders-db", RootKeyID: "key-1", KeyVersionID: "v1"}, nil))

	err := h.run(contract.ActivityEraseBackupKey, contract.EraseBackupKeyInput{BackupID: backupID}, nil)

	requireTyped(t, err, contract.ErrTypeInvalidInput, "prune backup "+backupID)
}

func TestListFleet_ActiveInstancesOfTheKeyOrAll(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-b", "key-1")
	h.instanceOn("orders-a", "key-1")
	h.instanceOn("billing", "key-2")

	var res contract.ListFleetResult
	require.NoError(t, h.run(contract.ActivityListFleet, contract.ListFleetInput{RootKeyID: "key-1"}, &res))
	require.Equal(t, []string{"orders-a", "orders-b"}, res.InstanceIDs)
	require.NoError(t, h.run(contract.ActivityListFleet, contract.ListFleetInput{All: true}, &res))
	require.Equal(t, []string{"billing", "orders-a", "orders-b"}, res.InstanceIDs)
}
