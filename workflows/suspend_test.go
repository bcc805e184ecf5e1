package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func suspendInput() contract.SuspendInput {
	return contract.SuspendInput{InstanceID: instanceID, Reason: "root key disabled", RequestedBy: "alice"}
}

func resumeInput() contract.ResumeInput {
	return contract.ResumeInput{InstanceID: instanceID, RequestedBy: "alice"}
}

// suspendedReport is the report of a fixture node whose server is stopped
// and whose fscrypt key is removed.
func suspendedReport(nodeID string) contract.NodeReport {
	r := report(nodeID, hostOf(nodeID), "v1")
	r.State, r.StorageKey = contract.KeySuspended, "removed"
	r.Detail = "root key disabled: server stopped, DEK zeroized; key slot kept: run `starter resume` to bring it back"
	return r
}

func suspendNode(_ context.Context, in contract.SuspendNodeInput) (contract.NodeReport, error) {
	return suspendedReport(in.NodeID), nil
}

// mockSuspend mocks an active instance whose nodes suspend and resume,
// the first one as primary; resumed collects the nodes resumed, in order.
func (h *harness) mockSuspend(resumed *[]string) {
	h.on(contract.ActivityLoadInstance, activeInstance(), nil)
	h.on(contract.ActivitySuspendNode, suspendNode)
	h.on(contract.ActivityResumeNode, func(_ context.Context, in contract.ResumeNodeInput) (contract.NodeReport, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		*resumed = append(*resumed, in.NodeID)
		if in.NodeID == nodes[0].NodeID {
			return primaryReport(in.NodeID, "v1"), nil
		}
		return standbyReport(in.NodeID, "v1"), nil
	})
}

func (h *harness) nodesResult() contract.NodesResult {
	h.t.Helper()
	require.NoError(h.t, h.env.GetWorkflowError())
	var res contract.NodesResult
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	return res
}

var suspends = []string{contract.ActivitySuspendNode, contract.ActivitySuspendNode, contract.ActivitySuspendNode}

func TestSuspend_HappyPath(t *testing.T) {
	h := newHarness(t)
	h.mockSuspend(new([]string))

	h.env.ExecuteWorkflow(contract.WorkflowSuspendInstance, suspendInput())

	res := h.nodesResult()
	want := []contract.NodeReport{suspendedReport("orders-db-1"), suspendedReport("orders-db-2"), suspendedReport("orders-db-3")}
	require.Equal(t, contract.NodesResult{InstanceID: instanceID, Nodes: want}, res)
	require.Equal(t, concat([]string{contract.ActivityLoadInstance}, suspends), h.calls())
	require.ElementsMatch(t, []string{"byokflow-node-host-a", "byokflow-node-host-b", "byokflow-node-host-a"},
		h.queues[contract.ActivitySuspendNode])
	require.Equal(t, []time.Duration{serverStartToClose, serverStartToClose, serverStartToClose},
		h.attempts[contract.ActivitySuspendNode], "stopping a server gets a server's attempt")
	for _, n := range nodes {
		h.env.AssertActivityCalled(t, contract.ActivitySuspendNode, mock.Anything,
			contract.SuspendNodeInput{InstanceID: instanceID, NodeID: n.NodeID, Reason: "root key disabled"})
	}
	require.ElementsMatch(t, want, h.recordedReports())
	p := h.queryProgress()
	require.Equal(t, contract.OperationSuspend, p.Operation)
	require.Equal(t, rootKeyID, p.RootKeyID)
	require.Equal(t, "done", p.Step)
}

func TestSuspend_NodeNotSuspendedFailsNodeKeyMismatch(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivitySuspendNode, "orders-db-2", report("orders-db-2", "host-b", "v1"), nil)
	h.mockSuspend(new([]string))

	h.env.ExecuteWorkflow(contract.WorkflowSuspendInstance, suspendInput())

	require.Equal(t, contract.ErrTypeNodeKeyMismatch, h.workflowErrType())
	err := h.env.GetWorkflowError()
	require.ErrorContains(t, err, `node orders-db-2 (host host-b) reported "active" under key version "v1", want "suspended"`)
	require.ErrorContains(t, err, "run the suspend again")
	require.NotContains(t, err.Error(), "orders-db-1 (host")
	require.Len(t, h.recordedReports(), 3, "what every node said is recorded")
}

func TestSuspend_NodeFailureIsReturned(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivitySuspendNode, "orders-db-3", contract.NodeReport{}, typedErr(contract.ErrTypeKeySlotMissing))
	h.mockSuspend(new([]string))

	h.env.ExecuteWorkflow(contract.WorkflowSuspendInstance, suspendInput())

	require.Equal(t, contract.ErrTypeKeySlotMissing, h.workflowErrType())
}

func TestSuspend_RefusesWhatItCannotSuspend(t *testing.T) {
	tests := []struct {
		name      string
		in        contract.SuspendInput
		state     contract.InstanceState
		wantType  string
		wantCalls []string
	}{
		{"bad name", contract.SuspendInput{InstanceID: "Orders DB"}, contract.InstanceActive,
			contract.ErrTypeInvalidInput, nil},
		{"negative deadline", contract.SuspendInput{InstanceID: instanceID, NodeDeadline: contract.Duration(-time.Hour)},
			contract.InstanceActive, contract.ErrTypeInvalidInput, nil},
		{"instance pending", suspendInput(), contract.InstancePending, contract.ErrTypeInstanceNotActive,
			[]string{contract.ActivityLoadInstance}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			inst := activeInstance()
			inst.State = tt.state
			h.on(contract.ActivityLoadInstance, inst, nil)
			h.mockSuspend(new([]string))

			h.env.ExecuteWorkflow(contract.WorkflowSuspendInstance, tt.in)

			require.Equal(t, tt.wantType, h.workflowErrType())
			require.Equal(t, tt.wantCalls, h.allCalls())
		})
	}
}

func TestResume_HappyPathResumesThePrimaryFirst(t *testing.T) {
	h := newHarness(t)
	var resumed []string
	h.mockSuspend(&resumed)

	h.env.ExecuteWorkflow(contract.WorkflowResumeInstance, resumeInput())

	res := h.nodesResult()
	require.Equal(t, contract.NodesResult{InstanceID: instanceID, Nodes: []contract.NodeReport{
		primaryReport("orders-db-1", "v1"), standbyReport("orders-db-2", "v1"), standbyReport("orders-db-3", "v1")}}, res)
	require.Equal(t, "orders-db-1", resumed[0], "the primary first")
	require.ElementsMatch(t, []string{"orders-db-2", "orders-db-3"}, resumed[1:])
	all := h.allCalls()
	require.Equal(t, []string{contract.ActivityLoadInstance, contract.ActivityResumeNode, contract.ActivityRecordNodeReports},
		all[:3], "the standbys start only once the primary's step is over, and recorded")
	require.ElementsMatch(t, []string{contract.ActivityResumeNode, contract.ActivityResumeNode,
		contract.ActivityRecordNodeReports, contract.ActivityRecordNodeReports}, all[3:])
	require.Equal(t, "byokflow-node-host-a", h.queues[contract.ActivityResumeNode][0])
	require.Equal(t, []time.Duration{serverStartToClose, serverStartToClose, serverStartToClose},
		h.attempts[contract.ActivityResumeNode])
	require.ElementsMatch(t, res.Nodes, h.recordedReports())
	require.Equal(t, res.Nodes[0], h.recordedReports()[0], "the primary's report first")
	require.Equal(t, contract.OperationResume, h.queryProgress().Operation)
}

// A root key that is still disabled fails the primary's resume, and no
// standby is tried: it could not stream anyway.
func TestResume_KeySuspendedStopsAtThePrimary(t *testing.T) {
	h := newHarness(t)
	var resumed []string
	h.onNode(contract.ActivityResumeNode, "orders-db-1", contract.NodeReport{}, contract.NewError(contract.ErrTypeKeySuspended,
		"resume node orders-db-1 of instance orders-db: root key orders-root is disabled: enable it and retry", nil))
	h.mockSuspend(&resumed)

	h.env.ExecuteWorkflow(contract.WorkflowResumeInstance, resumeInput())

	require.Equal(t, contract.ErrTypeKeySuspended, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), "root key orders-root is disabled")
	require.Equal(t, []string{contract.ActivityLoadInstance, contract.ActivityResumeNode}, h.allCalls(),
		"nothing recorded for a failed node, no standby tried")
	h.env.AssertActivityCalled(t, contract.ActivityResumeNode, mock.Anything,
		contract.ResumeNodeInput{InstanceID: instanceID, NodeID: "orders-db-1"})
	require.Empty(t, resumed)
}

func TestResume_StandbyNotActiveFailsNodeKeyMismatch(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityResumeNode, "orders-db-3", notStreaming("orders-db-3"), nil)
	h.mockSuspend(new([]string))

	h.env.ExecuteWorkflow(contract.WorkflowResumeInstance, resumeInput())

	require.Equal(t, contract.ErrTypeNodeKeyMismatch, h.workflowErrType())
	err := h.env.GetWorkflowError()
	require.ErrorContains(t, err, `node orders-db-3 (host host-a) reported "error" under key version "v1"`)
	require.ErrorContains(t, err, "run the resume again")
}

func TestResume_SingleNodeInstance(t *testing.T) {
	h := newHarness(t)
	inst := activeInstance()
	inst.Nodes = nodes[:1]
	h.on(contract.ActivityLoadInstance, inst, nil)
	h.mockSuspend(new([]string))

	h.env.ExecuteWorkflow(contract.WorkflowResumeInstance, resumeInput())

	require.Equal(t, []contract.NodeReport{primaryReport("orders-db-1", "v1")}, h.nodesResult().Nodes)
	require.Equal(t, []string{contract.ActivityLoadInstance, contract.ActivityResumeNode}, h.calls())
}

func checkInInput(reports ...contract.NodeReport) contract.NodeCheckInInput {
	return contract.NodeCheckInInput{Host: "host-a", TaskQueue: contract.NodeTaskQueue("host-a"), Reports: reports}
}

func TestNodeCheckIn_RegistersTheHostThenRecordsItsReports(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityRegisterHost, nil)
	h.unknown = []string{"node orders-db-9 of instance gone-db"}
	reports := []contract.NodeReport{primaryReport("orders-db-1", "v1"), suspendedReport("orders-db-3")}

	h.env.ExecuteWorkflow(contract.WorkflowNodeCheckIn, checkInInput(reports...))

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.NodeCheckInResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, contract.NodeCheckInResult{Reports: reports, Unknown: h.unknown}, res)
	require.Equal(t, []string{contract.ActivityRegisterHost, contract.ActivityRecordNodeReports}, h.allCalls())
	require.Equal(t, []string{contract.ControlTaskQueue}, h.queues[contract.ActivityRegisterHost])
	require.Equal(t, []string{contract.ControlTaskQueue}, h.queues[contract.ActivityRecordNodeReports])
	h.env.AssertActivityCalled(t, contract.ActivityRegisterHost, mock.Anything,
		contract.RegisterHostInput{Host: "host-a", TaskQueue: "byokflow-node-host-a"})
	require.Equal(t, reports, h.recordedReports())
}

func TestNodeCheckIn_NoReportsSkipsRecording(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityRegisterHost, nil)

	h.env.ExecuteWorkflow(contract.WorkflowNodeCheckIn, checkInInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, []string{contract.ActivityRegisterHost}, h.allCalls())
}

func TestNodeCheckIn_RegisterFailureRecordsNothing(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityRegisterHost, contract.NewError(contract.ErrTypeInvalidInput,
		"register host: a host name and a task queue are required", nil))

	h.env.ExecuteWorkflow(contract.WorkflowNodeCheckIn, contract.NodeCheckInInput{
		Reports: []contract.NodeReport{primaryReport("orders-db-1", "v1")}})

	require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
	require.Equal(t, []string{contract.ActivityRegisterHost}, h.allCalls())
	require.Empty(t, h.recordedReports())
}

// TestSuspend_NodesUnderMixedKeyVersionsStillSuspend: after a rotation
// stopped half way, some slots are under the newer version; a suspend (the
// root key was disabled) must not wait for the rotation to be finished.
func TestSuspend_NodesUnderMixedKeyVersionsStillSuspend(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityLoadInstance, activeInstance(), nil)
	h.onNode(contract.ActivitySuspendNode, nodes[1].NodeID, func(_ context.Context, in contract.SuspendNodeInput) (contract.NodeReport, error) {
		r := suspendedReport(in.NodeID)
		r.KeyVersionID = "v2"
		return r, nil
	})
	h.on(contract.ActivitySuspendNode, suspendNode)

	h.env.ExecuteWorkflow(contract.WorkflowSuspendInstance, suspendInput())

	require.Len(t, h.nodesResult().Nodes, 3)
}
