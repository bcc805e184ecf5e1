package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/kprecords"
)

func guardsInput(keep, include bool) contract.CheckShredGuardsInput {
	return guardsInputFor("key-1", keep, include)
}

func guardsInputFor(keyID string, keep, include bool) contract.CheckShredGuardsInput {
	return contract.CheckShredGuardsInput{InstanceID: "orders-db", RootKeyID: keyID,
		InstanceCRN: ordersCRN,
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
	key := h.rootKey("orders-root").ID
	h.instanceOn("orders-db", key)
	h.instanceOn("failed-db", key)
	require.NoError(t, h.cat.SetInstanceState(context.Background(), "failed-db", catalog.InstanceFailed, "x"))
	h.backup("orders-db-1", "orders-db", key)
	require.NoError(t, h.run(contract.ActivityCreateBackupRecord, contract.CreateBackupRecordInput{
		BackupID: "failed-db-1", InstanceID: "failed-db", RootKeyID: key}, nil))
	require.NoError(t, h.run(contract.ActivityFailBackupRecord, contract.FailBackupRecordInput{BackupID: "failed-db-1"}, nil))
	h.backup("orders-db-2", "orders-db", key)

	refused := h.run(contract.ActivityCheckShredGuards, guardsInputFor(key, false, false), nil)
	var included, kept contract.CheckShredGuardsResult
	require.NoError(t, h.run(contract.ActivityCheckShredGuards, guardsInputFor(key, false, true), &included))
	require.NoError(t, h.run(contract.ActivityCheckShredGuards, guardsInputFor(key, true, false), &kept))

	requireTyped(t, refused, contract.ErrTypeBackupsRetained, "deleting root key "+key+" makes backups "+
		"orders-db-1, orders-db-2 unrecoverable: shred with --include-backups", "the backups then stay restorable")
	require.Equal(t, []string{"orders-db-1", "orders-db-2"}, included.RetainedBackups)
	require.Empty(t, included.OtherInstances, "a failed instance does not depend on the key")
	require.Equal(t, included.RetainedBackups, kept.RetainedBackups)
}

func TestCheckShredGuards_NothingDependsChangesNothing(t *testing.T) {
	h := newCatalogHarness(t)
	key := h.rootKey("orders-root").ID
	h.instanceOn("orders-db", key)
	before := h.auditOps("orders-db")

	var res contract.CheckShredGuardsResult
	require.NoError(t, h.run(contract.ActivityCheckShredGuards, guardsInputFor(key, false, false), &res))

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

const ordersCRN = "crn:v1:bluemix:public:hyperp-dbaas-postgresql:us-south:a/acct:orders-db::"

func TestSortRegistrations_OwnAndGoneGoWithTheKeyOthersAreForeign(t *testing.T) {
	cos := kprecords.Registration{ResourceCRN: "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:bucket:logs"}
	kept := kprecords.Registration{ResourceCRN: "crn:v1:bluemix:public:databases-for-redis:us-south:a/acct:r1::",
		PreventKeyDeletion: true}
	regs := []kprecords.Registration{{ResourceCRN: ordersCRN}, {ResourceCRN: "crn:gone-db"}, cos, kept,
		{ResourceCRN: "crn:live-db"}}

	ours, foreign := sortRegistrations(regs, ordersCRN, map[string]bool{"crn:gone-db": true})

	require.Equal(t, []string{ordersCRN, "crn:gone-db"}, ours)
	require.Equal(t, []kprecords.Registration{cos, kept, {ResourceCRN: "crn:live-db"}}, foreign,
		"a byokflow instance the catalog does not know is gone counts as foreign too")
	msg := foreignMessage(keyUse{instanceID: "orders-db", rootKeyID: "key-1"}, foreign)
	require.Contains(t, msg, `shred instance "orders-db": Key Protect lists 3 resource(s) of other services registered with root key key-1: `+
		cos.ResourceCRN+", "+kept.ResourceCRN+" (preventKeyDeletion: a retention policy forbids deleting the key), crn:live-db")
	require.Contains(t, msg, "no flag overrides this")
}

func TestCheckShredGuards_ForeignRegistrationRefusesWhateverTheFlags(t *testing.T) {
	h := newCatalogHarness(t)
	key := h.rootKey("orders-root").ID
	h.instanceOn("orders-db", key)
	h.instanceOn("gone-db", key)
	require.NoError(t, h.cat.SetInstanceState(context.Background(), "gone-db", catalog.InstanceFailed, "x"))
	h.emu.AuthorizeService(t)
	orders, gone := h.load("orders-db").InstanceCRN, h.load("gone-db").InstanceCRN
	h.emu.Register(t, key, orders, false)
	h.emu.Register(t, key, gone, false)

	var ok contract.CheckShredGuardsResult
	in := guardsInputFor(key, false, true)
	in.InstanceCRN = orders
	require.NoError(t, h.run(contract.ActivityCheckShredGuards, in, &ok))
	require.ElementsMatch(t, []string{orders, gone}, ok.Registrations)

	foreign := "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:bucket:logs"
	h.emu.Register(t, key, foreign, true)
	refused := h.run(contract.ActivityCheckShredGuards, in, nil)
	in.KeepRootKey = true
	require.NoError(t, h.run(contract.ActivityCheckShredGuards, in, nil), "a kept root key destroys nobody's data")

	requireTyped(t, refused, contract.ErrTypeForeignRegistrations, foreign+" (preventKeyDeletion")
	require.NotContains(t, refused.Error(), gone)
}
