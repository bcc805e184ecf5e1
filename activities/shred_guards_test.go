package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

func guardsInput(keep, include bool) contract.CheckShredGuardsInput {
	return contract.CheckShredGuardsInput{InstanceID: "orders-db", RootKeyID: "key-1",
		KeepRootKey: keep, IncludeBackups: include}
}

func TestCheckShredGuards_OtherLiveInstances(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	h.instanceOn("billing-db", "key-1")
	h.instanceOn("gone-db", "key-1")
	h.instanceOn("elsewhere-db", "key-2")
	require.NoError(t, h.cat.SetInstanceState(context.Background(), "gone-db", catalog.InstanceShredded, ""))

	refused := h.run(contract.ActivityCheckShredGuards, guardsInput(false, true), nil)
	var kept contract.CheckShredGuardsResult
	require.NoError(t, h.run(contract.ActivityCheckShredGuards, guardsInput(true, false), &kept))

	requireTyped(t, refused, contract.ErrTypeKeyInUse, `shred instance "orders-db": root key key-1 is also used `+
		"by live instances billing-db: shred them first, or shred with --keep-root-key")
	require.NotContains(t, refused.Error(), "gone-db")
	require.Equal(t, []string{"billing-db"}, kept.OtherInstances)
}

func TestCheckShredGuards_RetainedBackups(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	h.instanceOn("failed-db", "key-1")
	require.NoError(t, h.cat.SetInstanceState(context.Background(), "failed-db", catalog.InstanceFailed, "x"))
	h.backup("orders-db-1", "orders-db", "key-1")
	require.NoError(t, h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: "failed-db-1", InstanceID: "failed-db", RootKeyID: "key-1"}, nil))
	require.NoError(t, h.run(contract.ActivityFailBackupRecord, contract.FailBackupRecordInput{BackupID: "failed-db-1"}, nil))
	h.backup("orders-db-2", "orders-db", "key-1")

	refused := h.run(contract.ActivityCheckShredGuards, guardsInput(false, false), nil)
	var included, kept contract.CheckShredGuardsResult
	require.NoError(t, h.run(contract.ActivityCheckShredGuards, guardsInput(false, true), &included))
	require.NoError(t, h.run(contract.ActivityCheckShredGuards, guardsInput(true, false), &kept))

	requireTyped(t, refused, contract.ErrTypeBackupsRetained, "deleting root key key-1 makes backups "+
		"orders-db-1, orders-db-2 unrecoverable: shred with --include-backups", "the backups then stay restorable")
	require.Equal(t, []string{"orders-db-1", "orders-db-2"}, included.RetainedBackups)
	require.Equal(t, "orders-db-1", included.ProofBackup.BackupID)
	require.Equal(t, []byte("wrapped-orders-db-1"), included.ProofBackup.WrappedDEK)
	require.Empty(t, included.OtherInstances, "a failed instance does not depend on the key")
	require.Equal(t, included.RetainedBackups, kept.RetainedBackups)
}

func TestCheckShredGuards_NothingDependsChangesNothing(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	before := h.auditOps("orders-db")

	var res contract.CheckShredGuardsResult
	require.NoError(t, h.run(contract.ActivityCheckShredGuards, guardsInput(false, false), &res))

	require.Equal(t, contract.CheckShredGuardsResult{}, res)
	require.Equal(t, before, h.auditOps("orders-db"))
	require.Equal(t, contract.InstanceActive, h.load("orders-db").State)
}

func TestMarkInstanceShredding_ThenShreddedIsTerminal(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	shredding := contract.MarkInstanceShreddingInput{InstanceID: "orders-db", RequestedBy: "alice"}
	shredded := contract.MarkInstanceShreddedInput{InstanceID: "orders-db", RequestedBy: "alice"}

	require.NoError(t, h.run(contract.ActivityMarkInstanceShredding, shredding, nil))
	require.NoError(t, h.run(contract.ActivityMarkInstanceShredding, shredding, nil), "retry")
	require.Equal(t, contract.InstanceShredding, h.load("orders-db").State)
	require.NoError(t, h.run(contract.ActivityMarkInstanceShredded, shredded, nil))
	require.NoError(t, h.run(contract.ActivityMarkInstanceShredded, shredded, nil), "retry")
	again := h.run(contract.ActivityMarkInstanceShredding, shredding, nil)

	require.Equal(t, contract.InstanceShredded, h.load("orders-db").State)
	requireTyped(t, again, contract.ErrTypeInstanceNotActive, "the instance is shredded")
	require.Equal(t, 1, countOps(h.auditOps("orders-db"), "instance.shredded"))
}

func TestMarkBackupsUnrecoverable_CompleteBackupsOfTheKeyOnce(t *testing.T) {
	h := newCatalogHarness(t)
	h.instanceOn("orders-db", "key-1")
	h.instanceOn("other-db", "key-2")
	h.backup("orders-db-1", "orders-db", "key-1")
	h.backup("other-db-1", "other-db", "key-2")
	require.NoError(t, h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: "orders-db-2", InstanceID: "orders-db", RootKeyID: "key-1"}, nil))
	in := contract.MarkBackupsUnrecoverableInput{RootKeyID: "key-1", InstanceID: "orders-db", RequestedBy: "alice"}

	var first, retry contract.MarkBackupsUnrecoverableResult
	require.NoError(t, h.run(contract.ActivityMarkBackupsUnrecoverable, in, &first))
	require.NoError(t, h.run(contract.ActivityMarkBackupsUnrecoverable, in, &retry))

	require.Equal(t, []string{"orders-db-1"}, first.BackupIDs)
	require.Equal(t, first, retry)
	require.Equal(t, catalog.BackupUnrecoverable, h.storedBackup("orders-db-1").State)
	require.Equal(t, catalog.BackupWriting, h.storedBackup("orders-db-2").State, "a backup still writing is its workflow's")
	require.Equal(t, catalog.BackupComplete, h.storedBackup("other-db-1").State, "another key's backup")
}
