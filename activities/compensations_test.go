package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// Every compensation is pushed before the step it undoes, so each must
// succeed when there is nothing to undo.

func TestDeregisterInstance_NothingRegisteredIsSuccess(t *testing.T) {
	h := newHarness(t)
	h.emu.AuthorizeService(t)
	key := h.rootKey("orders-root")
	crn := instanceCRN(h.acts.cfg, "orders-db")

	require.NoError(t, h.run(contract.ActivityDeregisterInstance,
		contract.DeregisterInstanceInput{RootKeyID: key.ID, InstanceCRN: crn}, nil), "a registration never made")
	require.NoError(t, h.run(contract.ActivityDeregisterInstance,
		contract.DeregisterInstanceInput{RootKeyID: "00000000-0000-4000-8000-000000000000", InstanceCRN: crn}, nil),
		"a key that does not exist")
}

func TestMarkInstanceFailed_NothingOfThisRunIsLeftAlone(t *testing.T) {
	h := newCatalogHarness(t)
	h.hosts("host-a")
	require.NoError(t, h.run(contract.ActivityMarkInstanceFailed, contract.MarkInstanceFailedInput{
		InstanceID: "orders-db", Reason: "x", WorkflowID: "provision-orders-db/r2"}, nil), "no record at all")
	require.NoError(t, h.run(contract.ActivityCreateInstanceRecord, recordInput("provision-orders-db/r1"), nil))

	require.NoError(t, h.run(contract.ActivityMarkInstanceFailed, contract.MarkInstanceFailedInput{
		InstanceID: "orders-db", Reason: "x", WorkflowID: "provision-orders-db/r2"}, nil))

	rec, err := h.cat.GetInstance(context.Background(), "orders-db")
	require.NoError(t, err)
	require.Equal(t, catalog.InstanceProvisioning, rec.State, "another run's record is not touched")

	require.NoError(t, h.run(contract.ActivityMarkInstanceFailed, contract.MarkInstanceFailedInput{
		InstanceID: "orders-db", Reason: "x", WorkflowID: "provision-orders-db/r1"}, nil))
	rec, err = h.cat.GetInstance(context.Background(), "orders-db")
	require.NoError(t, err)
	require.Equal(t, catalog.InstanceFailed, rec.State, "its own run's record is failed")
}

func TestFailBackupRecord_NoRecordIsSuccess(t *testing.T) {
	h := newCatalogHarness(t)
	require.NoError(t, h.run(contract.ActivityFailBackupRecord,
		contract.FailBackupRecordInput{BackupID: "orders-db-20300102T030405Z", Reason: "x"}, nil))
}
