package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func rotateInput() contract.RotateInput {
	return contract.RotateInput{InstanceID: instanceID, RequestedBy: "alice"}
}

// rewrapTo reports every node active under the version it was asked for.
func rewrapTo(_ context.Context, in contract.RewrapKeyInput) (contract.NodeReport, error) {
	return report(in.NodeID, hostOf(in.NodeID), in.TargetVersionID), nil
}

// mockRotate mocks a rotation of an active instance recorded at v1 that Key
// Protect rotates to v2.
func (h *harness) mockRotate() {
	h.on(contract.ActivityLoadInstance, contract.LoadInstanceResult{RootKeyID: rootKeyID,
		KPInstanceID: kpInstance, KeyVersionID: "v1", Nodes: nodes, State: contract.InstanceActive}, nil)
	h.on(contract.ActivityRotateKey, contract.RotateKeyResult{KeyVersionID: "v2", Rotated: true}, nil)
	h.on(contract.ActivityReadKeyVersion, contract.ReadKeyVersionResult{KeyVersionID: "v2"}, nil)
	h.on(contract.ActivityRewrapKey, rewrapTo)
	h.on(contract.ActivityListBackupKeys, contract.ListBackupKeysResult{}, nil)
	h.on(contract.ActivityRecordKeyVersion, nil)
}

var rewraps = []string{contract.ActivityRewrapKey, contract.ActivityRewrapKey, contract.ActivityRewrapKey}

func TestRotate_HappyPath(t *testing.T) {
	h := newHarness(t)
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.RotateResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, contract.RotateResult{InstanceID: instanceID, RootKeyID: rootKeyID,
		FromVersionID: "v1", KeyVersionID: "v2", Rotated: true, Nodes: []contract.NodeReport{
			report("orders-db-1", "host-a", "v2"), report("orders-db-2", "host-b", "v2"),
			report("orders-db-3", "host-a", "v2")}}, res)
	require.Equal(t, concat([]string{contract.ActivityLoadInstance, contract.ActivityRotateKey}, rewraps,
		[]string{contract.ActivityListBackupKeys, contract.ActivityRecordKeyVersion}), h.calls())
	h.env.AssertActivityCalled(t, contract.ActivityRotateKey, mock.Anything,
		contract.RotateKeyInput{RootKeyID: rootKeyID, FromVersionID: "v1", KPInstanceID: kpInstance})
	h.env.AssertActivityCalled(t, contract.ActivityRewrapKey, mock.Anything, contract.RewrapKeyInput{
		InstanceID: instanceID, NodeID: "orders-db-2", RootKeyID: rootKeyID,
		AAD: contract.NodeAAD(instanceID, "orders-db-2"), TargetVersionID: "v2", KPInstanceID: kpInstance})
	h.env.AssertActivityCalled(t, contract.ActivityRecordKeyVersion, mock.Anything,
		contract.RecordKeyVersionInput{InstanceID: instanceID, KeyVersionID: "v2", RequestedBy: "alice"})
	require.ElementsMatch(t, []string{"byokflow-node-host-a", "byokflow-node-host-b", "byokflow-node-host-a"},
		h.queues[contract.ActivityRewrapKey])
}

// A re-run after a rotation that stopped half way: Key Protect is already
// at v2, so RotateKey does not rotate, and the nodes are still rewrapped.
func TestRotate_AlreadyRotatedStillRewrapsAndCompletes(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityRotateKey, contract.RotateKeyResult{KeyVersionID: "v2", Rotated: false}, nil)
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.RotateResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.False(t, res.Rotated)
	require.Equal(t, "v1", res.FromVersionID)
	require.Equal(t, "v2", res.KeyVersionID)
	h.env.AssertActivityCalled(t, contract.ActivityRotateKey, mock.Anything,
		contract.RotateKeyInput{RootKeyID: rootKeyID, FromVersionID: "v1", KPInstanceID: kpInstance})
	h.env.AssertActivityNumberOfCalls(t, contract.ActivityRewrapKey, 3)
	h.env.AssertActivityCalled(t, contract.ActivityRecordKeyVersion, mock.Anything,
		contract.RecordKeyVersionInput{InstanceID: instanceID, KeyVersionID: "v2", RequestedBy: "alice"})
}

func TestRotate_RewrapOnlyNeverRotates(t *testing.T) {
	h := newHarness(t)
	h.mockRotate()
	in := rotateInput()
	in.RewrapOnly = true

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, in)

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.RotateResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.False(t, res.Rotated)
	require.Equal(t, "v2", res.KeyVersionID)
	require.NotContains(t, h.calls(), contract.ActivityRotateKey)
	require.Equal(t, concat([]string{contract.ActivityLoadInstance, contract.ActivityReadKeyVersion}, rewraps,
		[]string{contract.ActivityListBackupKeys, contract.ActivityRecordKeyVersion}), h.calls())
}

func TestRotate_NodeDeadlineSaysRerunIsSafe(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityRewrapKey, "orders-db-1", contract.NodeReport{}, scheduleToStart()).
		After(contract.DefaultNodeDeadline)
	h.onNode(contract.ActivityRewrapKey, "orders-db-3", contract.NodeReport{}, scheduleToStart()).
		After(contract.DefaultNodeDeadline)
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.Equal(t, contract.ErrTypeNodeDeadline, h.workflowErrType())
	err := h.env.GetWorkflowError()
	require.ErrorContains(t, err, "node orders-db-1 (host host-a), node orders-db-3 (host host-a) did not report")
	require.ErrorContains(t, err, "start the node agent for host host-a and re-run the rotation")
	require.ErrorContains(t, err, "a rotation stopped half way is safe")
	require.NotContains(t, h.calls(), contract.ActivityRecordKeyVersion)
}

func TestRotate_WrongVersionFailsNodeKeyMismatch(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityRewrapKey, "orders-db-2", report("orders-db-2", "host-b", "v3"), nil)
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.Equal(t, contract.ErrTypeNodeKeyMismatch, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), `node orders-db-2 (host host-b) reported "active" under key version "v3"`)
	require.NotContains(t, h.calls(), contract.ActivityRecordKeyVersion)
}

func TestRotate_TypedFailures(t *testing.T) {
	tests := []struct {
		name     string
		activity string
		ret      []any
		wantType string
	}{
		{"instance not found", contract.ActivityLoadInstance,
			[]any{contract.LoadInstanceResult{}, typedErr(contract.ErrTypeInstanceNotFound)}, contract.ErrTypeInstanceNotFound},
		{"instance pending", contract.ActivityLoadInstance,
			[]any{contract.LoadInstanceResult{RootKeyID: rootKeyID, Nodes: nodes, State: contract.InstancePending}, nil},
			contract.ErrTypeInstanceNotActive},
		{"rotation too soon", contract.ActivityRotateKey,
			[]any{contract.RotateKeyResult{}, typedErr(contract.ErrTypeRotationTooSoon)}, contract.ErrTypeRotationTooSoon},
		{"key destroyed", contract.ActivityRotateKey,
			[]any{contract.RotateKeyResult{}, typedErr(contract.ErrTypeKeyDestroyed)}, contract.ErrTypeKeyDestroyed},
		{"node key suspended", contract.ActivityRewrapKey,
			[]any{contract.NodeReport{}, typedErr(contract.ErrTypeKeySuspended)}, contract.ErrTypeKeySuspended},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.on(tt.activity, tt.ret...)
			h.mockRotate()

			h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

			require.Equal(t, tt.wantType, h.workflowErrType())
			require.NotContains(t, h.calls(), contract.ActivityRecordKeyVersion)
		})
	}
}

func TestRotate_InvalidInputStartsNoActivity(t *testing.T) {
	h := newHarness(t)
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, contract.RotateInput{InstanceID: "Orders"})

	require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
	require.Empty(t, h.calls())
}

func TestRotate_ProgressQueryDuringRewrap(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityRewrapKey, "orders-db-3", rewrapTo).After(contract.DefaultNodeDeadline / 2)
	h.mockRotate()
	var mid contract.Progress
	h.env.RegisterDelayedCallback(func() { mid = h.queryProgress() }, contract.DefaultNodeDeadline/4)

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, contract.OperationRotate, mid.Operation)
	require.Equal(t, rootKeyID, mid.RootKeyID)
	require.Equal(t, "rewrap keys", mid.Step)
	require.Equal(t, []contract.ProgressState{"active", "active", contract.ProgressWaiting},
		[]contract.ProgressState{mid.Nodes[0].State, mid.Nodes[1].State, mid.Nodes[2].State})
	require.Equal(t, "v2", mid.Nodes[0].KeyVersionID)
}

// A new run records the rewrapped nodes' reports (change
// record-node-reports); the recorded history of an older run replays
// without them (TestRotate_ReplaysHistoryRecordedBeforeBackupRewrap).
func TestRotate_RecordsEveryNodeReport(t *testing.T) {
	h := newHarness(t)
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.ElementsMatch(t, []contract.NodeReport{report("orders-db-1", "host-a", "v2"), report("orders-db-2", "host-b", "v2"),
		report("orders-db-3", "host-a", "v2")}, h.recordedReports())
	before := h.callsBefore(contract.ActivityListBackupKeys)
	require.Equal(t, []string{contract.ActivityLoadInstance, contract.ActivityRotateKey}, before[:2])
	require.ElementsMatch(t, concat(rewraps, []string{contract.ActivityRecordNodeReports, contract.ActivityRecordNodeReports,
		contract.ActivityRecordNodeReports}), before[2:], "every report recorded before the backups and the version")
}
