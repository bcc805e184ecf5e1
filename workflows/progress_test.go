package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// queryProgress runs the progress query against the running workflow.
func (h *harness) queryProgress() contract.Progress {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(contract.QueryProgress)
	require.NoError(h.t, err)
	var p contract.Progress
	require.NoError(h.t, v.Get(&p))
	return p
}

func TestProvision_ProgressQueryShowsWaitingNode(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityInstallKey, "orders-db-2", installPending("v1")).After(time.Hour)
	h.mockProvision()
	var mid contract.Progress
	h.env.RegisterDelayedCallback(func() { mid = h.queryProgress() }, 30*time.Minute)

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, contract.OperationProvision, mid.Operation)
	require.Equal(t, instanceID, mid.InstanceID)
	require.Equal(t, rootKeyID, mid.RootKeyID)
	require.Equal(t, "install keys", mid.Step)
	require.Len(t, mid.Nodes, 3)
	waiting := mid.Nodes[1]
	require.Equal(t, "orders-db-2", waiting.NodeID)
	require.Equal(t, "host-b", waiting.Host)
	require.Equal(t, contract.ProgressWaiting, waiting.State)
	require.True(t, t0.Equal(waiting.WaitingSince), "waiting since %s", waiting.WaitingSince)
	require.Empty(t, waiting.KeyVersionID)
	require.True(t, waiting.ReportedAt.IsZero())
	for _, i := range []int{0, 2} {
		require.Equal(t, contract.ProgressOf(contract.KeyPending), mid.Nodes[i].State, mid.Nodes[i].NodeID)
		require.Equal(t, "v1", mid.Nodes[i].KeyVersionID)
		require.True(t, t0.Equal(mid.Nodes[i].ReportedAt))
	}

	done := h.queryProgress()
	require.Equal(t, "done", done.Step)
	for _, n := range done.Nodes {
		require.Equal(t, contract.ProgressState("active"), n.State, n.NodeID)
	}
}

func TestProvision_ProgressShowsTimedOutNode(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityInstallKey, "orders-db-2", contract.NodeReport{}, scheduleToStart()).
		After(contract.DefaultNodeDeadline)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	p := h.queryProgress()
	require.Equal(t, "compensate", p.Step)
	require.Equal(t, contract.ProgressTimedOut, p.Nodes[1].State)
}

func TestTracker_SnapshotIsACopy(t *testing.T) {
	tr := newTracker(contract.OperationRotate, instanceID)
	tr.nodes(nodes)
	snap := tr.snapshot()
	tr.waiting("orders-db-1", t0)

	require.Equal(t, contract.ProgressNotStarted, snap.Nodes[0].State)
	require.Equal(t, contract.ProgressWaiting, tr.snapshot().Nodes[0].State)
}

func TestTracker_NodeStates(t *testing.T) {
	tr := newTracker(contract.OperationProvision, instanceID)
	tr.nodes(nodes)
	tr.waiting("orders-db-1", t0)
	tr.waiting("orders-db-2", t0)
	tr.reported(report("orders-db-1", "host-a", "v7"))
	tr.stopped("orders-db-2", contract.ProgressFailed, "install key: boom")
	tr.waiting("unknown-node", t0)

	got := tr.snapshot().Nodes
	require.Len(t, got, 3)
	require.Equal(t, contract.NodeProgress{NodeID: "orders-db-1", Host: "host-a", State: "active",
		KeyVersionID: "v7", ReportedAt: t0, WaitingSince: t0}, got[0])
	require.Equal(t, contract.NodeProgress{NodeID: "orders-db-2", Host: "host-b",
		State: contract.ProgressFailed, WaitingSince: t0, Detail: "install key: boom"}, got[1])
	require.Equal(t, contract.ProgressNotStarted, got[2].State)
}
