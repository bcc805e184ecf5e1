package activities

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// provisioned creates the record of orders-db with three nodes on two hosts.
func (h *harness) provisioned() contract.CreateInstanceRecordResult {
	h.t.Helper()
	h.hosts("host-a", "host-b")
	var rec contract.CreateInstanceRecordResult
	require.NoError(h.t, h.run(contract.ActivityCreateInstanceRecord, recordInput("wf-1"), &rec))
	return rec
}

func (h *harness) load(id string) contract.LoadInstanceResult {
	h.t.Helper()
	var res contract.LoadInstanceResult
	require.NoError(h.t, h.run(contract.ActivityLoadInstance, contract.LoadInstanceInput{InstanceID: id}, &res))
	return res
}

func TestLoadInstance_TracksCurrentKeyVersion(t *testing.T) {
	h := newCatalogHarness(t)
	rec := h.provisioned()
	require.Equal(t, contract.LoadInstanceResult{RootKeyID: "key-1", KPInstanceID: h.emu.Dev.KPInstanceID,
		Nodes: rec.Nodes, State: contract.InstancePending, InstanceCRN: rec.InstanceCRN,
		DatabaseName: "byok_orders_db"}, h.load("orders-db"))

	active := contract.MarkInstanceActiveInput{InstanceID: "orders-db", KeyVersionID: "v1"}
	require.NoError(t, h.run(contract.ActivityMarkInstanceActive, active, nil))
	require.NoError(t, h.run(contract.ActivityMarkInstanceActive, active, nil), "retry")
	loaded := h.load("orders-db")
	require.Equal(t, contract.InstanceActive, loaded.State)
	require.Equal(t, "v1", loaded.KeyVersionID)

	rotated := contract.RecordKeyVersionInput{InstanceID: "orders-db", KeyVersionID: "v2", RequestedBy: "bob"}
	require.NoError(t, h.run(contract.ActivityRecordKeyVersion, rotated, nil))
	require.NoError(t, h.run(contract.ActivityRecordKeyVersion, rotated, nil), "retry")
	loaded = h.load("orders-db")
	require.Equal(t, "v2", loaded.KeyVersionID)
	require.Equal(t, contract.InstanceActive, loaded.State)
	require.Equal(t, rec.Nodes, loaded.Nodes)
	require.Equal(t, []string{"instance.create", "instance.active", "instance.key-version"}, h.auditOps("orders-db"))
}

func TestLoadInstance_UnknownFailsInstanceNotFound(t *testing.T) {
	h := newCatalogHarness(t)

	err := h.run(contract.ActivityLoadInstance, contract.LoadInstanceInput{InstanceID: "missing-db"}, nil)
	recordErr := h.run(contract.ActivityRecordKeyVersion,
		contract.RecordKeyVersionInput{InstanceID: "missing-db", KeyVersionID: "v2"}, nil)

	requireTyped(t, err, contract.ErrTypeInstanceNotFound, `load instance "missing-db"`, "check the instance name")
	requireTyped(t, recordErr, contract.ErrTypeInstanceNotFound, `record key version v2 of instance "missing-db"`)
}

func TestRecordKeyVersion_EmptyVersionIsInvalidInput(t *testing.T) {
	h := newCatalogHarness(t)
	h.provisioned()

	err := h.run(contract.ActivityRecordKeyVersion, contract.RecordKeyVersionInput{InstanceID: "orders-db"}, nil)

	requireTyped(t, err, contract.ErrTypeInvalidInput, "key version id is empty")
}

func TestMarkInstanceFailed_KeepsNodesAndIsIdempotent(t *testing.T) {
	h := newCatalogHarness(t)
	rec := h.provisioned()
	reason := "install keys: node orders-db-2 reported error " + strings.Repeat("x", 3000)
	in := contract.MarkInstanceFailedInput{InstanceID: "orders-db", Reason: reason}

	require.NoError(t, h.run(contract.ActivityMarkInstanceFailed, in, nil))
	require.NoError(t, h.run(contract.ActivityMarkInstanceFailed, in, nil), "retry")
	require.NoError(t, h.run(contract.ActivityMarkInstanceFailed,
		contract.MarkInstanceFailedInput{InstanceID: "never-created"}, nil), "nothing to compensate")

	got, err := h.cat.GetInstance(context.Background(), "orders-db")
	require.NoError(t, err)
	require.Equal(t, catalog.InstanceFailed, got.State)
	require.True(t, strings.HasPrefix(got.FailureReason, "install keys: node orders-db-2 reported error"))
	require.LessOrEqual(t, len(got.FailureReason), maxReasonLen+3)
	loaded := h.load("orders-db")
	require.Equal(t, contract.InstanceFailed, loaded.State)
	require.Equal(t, rec.Nodes, loaded.Nodes, "nodes and their history stay until the name is reused")
	require.Equal(t, []string{"instance.create", "instance.failed"}, h.auditOps("orders-db"))
}
