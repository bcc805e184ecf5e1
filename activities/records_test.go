package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

func recordInput(workflowID string) contract.CreateInstanceRecordInput {
	return contract.CreateInstanceRecordInput{InstanceID: "orders-db", RootKeyID: "key-1",
		KPInstanceID: "", KeyVersionID: "v1", Nodes: 3, WorkflowID: workflowID, RequestedBy: "alice"}
}

// hosts registers node-agent hosts, in the order given.
func (h *harness) hosts(names ...string) {
	h.t.Helper()
	for _, n := range names {
		_, err := h.cat.UpsertHost(context.Background(), n, contract.NodeTaskQueue(n))
		require.NoError(h.t, err)
	}
}

func TestCreateInstanceRecord_PlacesNodesAndIsIdempotent(t *testing.T) {
	h := newCatalogHarness(t)
	h.hosts("host-b", "host-a")

	var first, again contract.CreateInstanceRecordResult
	require.NoError(t, h.run(contract.ActivityCreateInstanceRecord, recordInput("wf-1"), &first))
	h.hosts("host-0") // a new host must not change a retry's placement
	require.NoError(t, h.run(contract.ActivityCreateInstanceRecord, recordInput("wf-1"), &again))

	require.Equal(t, contract.CreateInstanceRecordResult{
		InstanceCRN:  "crn:v1:bluemix:public:" + h.emu.Dev.ServiceName + ":us-south:a/" + h.emu.Dev.AccountID + ":orders-db::",
		DatabaseName: "byok_orders_db",
		Nodes: []contract.NodePlacement{{NodeID: "orders-db-1", Host: "host-a", TaskQueue: "byokflow-node-host-a"},
			{NodeID: "orders-db-2", Host: "host-b", TaskQueue: "byokflow-node-host-b"},
			{NodeID: "orders-db-3", Host: "host-a", TaskQueue: "byokflow-node-host-a"}},
	}, first)
	require.Equal(t, first, again)
	rec, err := h.cat.GetInstance(context.Background(), "orders-db")
	require.NoError(t, err)
	require.Equal(t, catalog.InstanceProvisioning, rec.State)
	require.Equal(t, h.emu.Dev.KPInstanceID, rec.KPInstanceID)
	require.Equal(t, "v1", rec.KeyVersionAtCreate)
	require.Empty(t, rec.KeyVersionID, "no current version before activation")
	require.Equal(t, []string{"instance.create"}, h.auditOps("orders-db"), "audited once")
}

func TestCreateInstanceRecord_Rejects(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(h *harness)
		in        contract.CreateInstanceRecordInput
		wantType  string
		fragments []string
	}{
		{"live instance of another workflow", func(h *harness) {
			h.hosts("host-a")
			require.NoError(h.t, h.run(contract.ActivityCreateInstanceRecord, recordInput("wf-1"), nil))
		}, recordInput("wf-2"), contract.ErrTypeInstanceExists,
			[]string{`instance "orders-db" already exists`, "provisioning", "wf-1", "choose another name"}},
		{"no hosts", func(*harness) {}, recordInput("wf-1"), contract.ErrTypeNoNodeHosts,
			[]string{"no node agent is registered", "worker node --host NAME"}},
		{"bad name", func(h *harness) { h.hosts("host-a") },
			contract.CreateInstanceRecordInput{InstanceID: "Orders DB", RootKeyID: "k", Nodes: 1, WorkflowID: "wf"},
			contract.ErrTypeInvalidInput, []string{"Orders DB"}},
		{"no nodes", func(h *harness) { h.hosts("host-a") },
			contract.CreateInstanceRecordInput{InstanceID: "orders-db", RootKeyID: "k", WorkflowID: "wf"},
			contract.ErrTypeInvalidInput, []string{"node count 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newCatalogHarness(t)
			tt.setup(h)

			err := h.run(contract.ActivityCreateInstanceRecord, tt.in, nil)

			requireTyped(t, err, tt.wantType, tt.fragments...)
		})
	}
}

func TestCreateInstanceRecord_ReplacesFailedRecord(t *testing.T) {
	h := newCatalogHarness(t)
	h.hosts("host-a")
	require.NoError(t, h.run(contract.ActivityCreateInstanceRecord, recordInput("wf-1"), nil))
	require.NoError(t, h.run(contract.ActivityMarkInstanceFailed,
		contract.MarkInstanceFailedInput{InstanceID: "orders-db", Reason: "node orders-db-2 failed"}, nil))
	h.hosts("host-b")

	var res contract.CreateInstanceRecordResult
	require.NoError(t, h.run(contract.ActivityCreateInstanceRecord, recordInput("wf-2"), &res))

	rec, err := h.cat.GetInstance(context.Background(), "orders-db")
	require.NoError(t, err)
	require.Equal(t, "wf-2", rec.WorkflowID)
	require.Equal(t, catalog.InstanceProvisioning, rec.State)
	require.Empty(t, rec.FailureReason)
	require.Equal(t, "host-b", res.Nodes[1].Host, "placed afresh")
	require.Equal(t, []string{"instance.create", "instance.failed", "instance.create"}, h.auditOps("orders-db"),
		"the failed attempt's audit trail stays")
}

// auditOps lists the operations audited for the instance, oldest first.
func (h *harness) auditOps(instanceID string) []string {
	h.t.Helper()
	events, err := h.cat.ListAudit(context.Background(), instanceID)
	require.NoError(h.t, err)
	var ops []string
	for _, e := range events {
		ops = append(ops, e.Operation)
	}
	return ops
}
