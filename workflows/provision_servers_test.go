package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// The server steps of a provision: after every node installed its key,
// the first node starts the primary, then the others start standbys of it.

// notStreaming is what a standby whose server runs but does not stream
// reports.
func notStreaming(nodeID string) contract.NodeReport {
	r := standbyReport(nodeID, "v1")
	r.State, r.Replication = contract.KeyError, contract.ReplicationStopped
	r.Detail = "standby " + nodeID + " does not stream from its primary: check the primary's host"
	return r
}

func TestProvision_StandbysStreamFromThePrimary(t *testing.T) {
	h := newHarness(t)
	src := contract.ReplicationSource{Address: "10.0.0.7:5433", ReplicationWrapped: []byte("wrapped-by-orders-root"),
		AAD: contract.ReplicationAAD(instanceID), RootKeyID: rootKeyID, KPInstanceID: kpInstance}
	h.onNode(contract.ActivityStartPrimary, "orders-db-1",
		contract.StartPrimaryResult{Report: primaryReport("orders-db-1", "v1"), Primary: src}, nil)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	for _, id := range []string{"orders-db-2", "orders-db-3"} {
		h.env.AssertActivityCalled(t, contract.ActivityStartStandby, mock.Anything,
			contract.StartStandbyInput{InstanceID: instanceID, NodeID: id, Primary: src})
	}
	h.env.AssertActivityNumberOfCalls(t, contract.ActivityStartStandby, 2)
	h.env.AssertActivityNumberOfCalls(t, contract.ActivityStartPrimary, 1)
	before := h.callsBefore(contract.ActivityStartStandby)
	require.Equal(t, []string{contract.ActivityStartPrimary, contract.ActivityRecordNodeReports}, before[len(before)-2:],
		"the primary's step is over, and recorded, before a standby starts")
}

func TestProvision_ServerStepsGetLongerAttempts(t *testing.T) {
	h := newHarness(t)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, []time.Duration{serverStartToClose}, h.attempts[contract.ActivityStartPrimary])
	require.Equal(t, []time.Duration{serverStartToClose, serverStartToClose}, h.attempts[contract.ActivityStartStandby])
	require.Equal(t, []time.Duration{nodeStartToClose, nodeStartToClose, nodeStartToClose},
		h.attempts[contract.ActivityInstallKey])
}

// A failed or doubtful server step undoes every node that installed a key
// (its server may be half made), the registration and the record.
func TestProvision_ServerStepFailureUndoesEveryNode(t *testing.T) {
	undo := concat(drops, []string{contract.ActivityDeregisterInstance, contract.ActivityMarkInstanceFailed})
	otherVersion := primaryReport("orders-db-1", "v2")
	tests := []struct {
		name      string
		activity  string
		node      string
		ret       []any
		wantType  string
		wantText  string
		wantCalls []string
	}{
		{"primary fails", contract.ActivityStartPrimary, "orders-db-1",
			[]any{contract.StartPrimaryResult{}, typedErr(contract.ErrTypeStorageUnsupported)},
			contract.ErrTypeStorageUnsupported, "fixture failure of type StorageUnsupported",
			concat(provisionSteps, installs, servers[:1], undo)},
		{"primary reports another key version", contract.ActivityStartPrimary, "orders-db-1",
			[]any{contract.StartPrimaryResult{Report: otherVersion, Primary: replicationSource(instanceID, rootKeyID, kpInstance)}, nil},
			contract.ErrTypeNodeKeyMismatch,
			`node orders-db-1 (host host-a) reported "active" under key version "v2", want "active" under key version "v1"`,
			concat(provisionSteps, installs, servers[:1], undo)},
		{"standby fails", contract.ActivityStartStandby, "orders-db-3",
			[]any{contract.NodeReport{}, typedErr(contract.ErrTypeKeySlotMissing)},
			contract.ErrTypeKeySlotMissing, "fixture failure of type KeySlotMissing",
			concat(provisionSteps, installs, servers, undo)},
		{"standby does not stream", contract.ActivityStartStandby, "orders-db-2",
			[]any{notStreaming("orders-db-2"), nil},
			contract.ErrTypeNodeKeyMismatch,
			`node orders-db-2 (host host-b) reported "error" under key version "v1" (standby orders-db-2 does not ` +
				`stream from its primary: check the primary's host), want "active" under key version "v1"`,
			concat(provisionSteps, installs, servers, undo)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			// The node answers last, so every node of its step has started.
			h.onNode(tt.activity, tt.node, tt.ret...).After(time.Minute)
			h.mockProvision()

			h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

			require.Equal(t, tt.wantType, h.workflowErrType())
			require.ErrorContains(t, h.env.GetWorkflowError(), tt.wantText)
			require.Equal(t, tt.wantCalls, h.calls())
			require.ElementsMatch(t, []string{"orders-db-1", "orders-db-2", "orders-db-3"}, h.droppedNodes())
			h.env.AssertActivityCalled(t, contract.ActivityDeregisterInstance, mock.Anything,
				contract.DeregisterInstanceInput{RootKeyID: rootKeyID, InstanceCRN: instCRN, KPInstanceID: kpInstance})
			h.env.AssertActivityCalled(t, contract.ActivityMarkInstanceFailed, mock.Anything,
				mock.MatchedBy(func(in contract.MarkInstanceFailedInput) bool {
					return in.InstanceID == instanceID && in.Reason != ""
				}))
			h.env.AssertActivityNotCalled(t, contract.ActivityMarkInstanceActive, mock.Anything, mock.Anything)
		})
	}
}

// A standby that fails cancels its slow sibling; the sibling may have
// begun its pg_basebackup, so it is dropped as well.
func TestProvision_StandbyFailureDropsTheCanceledStandbyToo(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityStartStandby, "orders-db-2", standbyReport("orders-db-2", "v1"), nil).After(time.Hour)
	h.onNode(contract.ActivityStartStandby, "orders-db-3", contract.NodeReport{},
		typedErr(contract.ErrTypeStorageUnsupported)).After(time.Minute)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.Equal(t, contract.ErrTypeStorageUnsupported, h.workflowErrType())
	require.Less(t, h.env.Now().Sub(t0), time.Hour, "the workflow did not wait for the slow standby")
	require.ElementsMatch(t, []string{"orders-db-1", "orders-db-2", "orders-db-3"}, h.droppedNodes())
}

func TestProvision_AwaitDataLeavesTheInstancePending(t *testing.T) {
	h := newHarness(t)
	h.mockProvision()
	in := provisionInput()
	in.AwaitData = true

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, in)

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.ProvisionResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, []contract.NodeReport{primaryReport("orders-db-1", "v1"), standbyReport("orders-db-2", "v1"),
		standbyReport("orders-db-3", "v1")}, res.Nodes)
	require.Equal(t, "v1", res.KeyVersionID)
	require.Equal(t, concat(provisionSteps, installs, servers), h.calls(), "no MarkInstanceActive")
	require.Empty(t, h.droppedNodes())
	require.Equal(t, "done: servers up, awaiting data", h.queryProgress().Step)
}

func TestProvision_SingleNodeStartsNoStandby(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityCreateInstanceRecord, contract.CreateInstanceRecordResult{
		InstanceCRN: instCRN, DatabaseName: "orders_db", Nodes: nodes[:1]}, nil)
	h.mockProvision()
	in := provisionInput()
	in.Nodes = 1

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, in)

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.ProvisionResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, []contract.NodeReport{primaryReport("orders-db-1", "v1")}, res.Nodes)
	require.Equal(t, concat(provisionSteps, []string{contract.ActivityInstallKey, contract.ActivityStartPrimary,
		contract.ActivityMarkInstanceActive}), h.calls())
}

func TestProvision_RecordsEveryInstallAndServerReport(t *testing.T) {
	h := newHarness(t)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	// Node agents do not write the catalog: the workflow records for them,
	// each report as it arrives, step after step.
	got := h.recordedReports()
	require.Len(t, got, 6)
	require.ElementsMatch(t, []contract.NodeReport{pending("orders-db-1", "host-a", "v1"),
		pending("orders-db-2", "host-b", "v1"), pending("orders-db-3", "host-a", "v1")}, got[:3])
	require.Equal(t, primaryReport("orders-db-1", "v1"), got[3])
	require.ElementsMatch(t, []contract.NodeReport{standbyReport("orders-db-2", "v1"), standbyReport("orders-db-3", "v1")}, got[4:])
	require.Equal(t, []string{contract.ControlTaskQueue, contract.ControlTaskQueue, contract.ControlTaskQueue,
		contract.ControlTaskQueue, contract.ControlTaskQueue, contract.ControlTaskQueue},
		h.queues[contract.ActivityRecordNodeReports], "on the control queue")
}

// The catalog shows a node that reported while another is still awaited.
func TestProvision_RecordsEachReportAsItArrives(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityInstallKey, "orders-db-2", installPending("v1")).After(time.Hour)
	h.mockProvision()
	var mid []contract.NodeReport
	h.env.RegisterDelayedCallback(func() { mid = h.recordedReports() }, 30*time.Minute)

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.ElementsMatch(t, []contract.NodeReport{pending("orders-db-1", "host-a", "v1"),
		pending("orders-db-3", "host-a", "v1")}, mid)
}

// The reports of a failed step are recorded too: the catalog shows what
// the nodes that answered said.
func TestProvision_RecordsTheReportsOfAFailedStep(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityStartStandby, "orders-db-2", notStreaming("orders-db-2"), nil)
	h.onNode(contract.ActivityStartStandby, "orders-db-3", contract.NodeReport{},
		typedErr(contract.ErrTypeKeySlotMissing)).After(time.Minute)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.Equal(t, contract.ErrTypeKeySlotMissing, h.workflowErrType())
	got := h.recordedReports()
	require.Equal(t, notStreaming("orders-db-2"), got[len(got)-1], "the standby that answered")
	require.Len(t, got, 5, "three installs, the primary, one standby: nothing for the failed node")
}

// A step whose reports the catalog refuses fails: the workflow does not go
// on with nodes the catalog knows nothing of.
func TestProvision_RecordFailureFailsTheStep(t *testing.T) {
	refused := contract.NewError(contract.ErrTypeInvalidInput, "record key status of node orders-db-1 "+
		"of instance orders-db: unknown state", nil)
	tests := []struct {
		name      string
		refuse    func(contract.NodeReport) bool
		wantCalls []string
	}{
		{"install reports", func(r contract.NodeReport) bool { return r.State == contract.KeyPending },
			concat(provisionSteps, installs)},
		{"primary report", func(r contract.NodeReport) bool { return r.Role == contract.RolePrimary },
			concat(provisionSteps, installs, servers[:1])},
		{"standby reports", func(r contract.NodeReport) bool { return r.Role == contract.RoleStandby },
			concat(provisionSteps, installs, servers)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.recordFails = func(in contract.RecordNodeReportsInput) error {
				for _, r := range in.Reports {
					if tt.refuse(r) {
						return refused
					}
				}
				return nil
			}
			h.mockProvision()

			h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

			require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
			require.ErrorContains(t, h.env.GetWorkflowError(), "record key status of node orders-db-1")
			require.Equal(t, concat(tt.wantCalls, drops, []string{contract.ActivityDeregisterInstance,
				contract.ActivityMarkInstanceFailed}), h.calls())
			require.ElementsMatch(t, []string{"orders-db-1", "orders-db-2", "orders-db-3"}, h.droppedNodes())
		})
	}
}
