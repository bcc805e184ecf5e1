package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
)

func typedErr(errType string) error {
	return contract.NewError(errType, "fixture failure of type "+errType, nil)
}

func TestProvision_TypedFailuresCompensateOnlyWhatWasDone(t *testing.T) {
	check, validate, create := provisionSteps[:2], provisionSteps[:3], provisionSteps[:5]
	markFailed := []string{contract.ActivityMarkInstanceFailed}
	tests := []struct {
		name      string
		activity  string
		ret       []any
		wantType  string
		wantCalls []string
	}{
		{"auth missing", contract.ActivityCheckServiceAuthorization,
			[]any{contract.CheckServiceAuthorizationResult{}, typedErr(contract.ErrTypeServiceNotAuthorized)},
			contract.ErrTypeServiceNotAuthorized, check},
		{"key not found", contract.ActivityValidateRootKey,
			[]any{contract.ValidateRootKeyResult{}, typedErr(contract.ErrTypeKeyNotFound)},
			contract.ErrTypeKeyNotFound, validate},
		{"standard key", contract.ActivityValidateRootKey,
			[]any{contract.ValidateRootKeyResult{}, typedErr(contract.ErrTypeNotRootKey)},
			contract.ErrTypeNotRootKey, validate},
		{"key not active", contract.ActivityValidateRootKey,
			[]any{contract.ValidateRootKeyResult{}, typedErr(contract.ErrTypeKeyNotActive)},
			contract.ErrTypeKeyNotActive, validate},
		{"instance exists", contract.ActivityCreateInstanceRecord,
			[]any{contract.CreateInstanceRecordResult{}, typedErr(contract.ErrTypeInstanceExists)},
			contract.ErrTypeInstanceExists, concat(create, markFailed)},
		{"no hosts", contract.ActivityCreateInstanceRecord,
			[]any{contract.CreateInstanceRecordResult{}, typedErr(contract.ErrTypeNoNodeHosts)},
			contract.ErrTypeNoNodeHosts, concat(create, markFailed)},
		{"record without nodes", contract.ActivityCreateInstanceRecord,
			[]any{contract.CreateInstanceRecordResult{InstanceCRN: instCRN}, nil},
			contract.ErrTypeNoNodeHosts, concat(create, markFailed)},
		{"registration fails", contract.ActivityRegisterInstance,
			[]any{typedErr(contract.ErrTypeServiceNotAuthorized)},
			contract.ErrTypeServiceNotAuthorized, concat(provisionSteps[:6],
				[]string{contract.ActivityDeregisterInstance}, markFailed)},
		{"mark active fails", contract.ActivityMarkInstanceActive,
			[]any{typedErr(contract.ErrTypeInstanceNotFound)}, contract.ErrTypeInstanceNotFound,
			concat(provisionSteps, installs, servers, []string{contract.ActivityMarkInstanceActive}, drops,
				[]string{contract.ActivityDeregisterInstance}, markFailed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.on(tt.activity, tt.ret...)
			h.mockProvision()

			h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

			require.Equal(t, tt.wantType, h.workflowErrType())
			require.Equal(t, tt.wantCalls, h.calls())
		})
	}
}

func TestProvision_NodeFailureCompensatesInReverseOrder(t *testing.T) {
	h := newHarness(t)
	// The failing node answers last, so the others have reported by then.
	h.onNode(contract.ActivityInstallKey, "orders-db-2", contract.NodeReport{},
		typedErr(contract.ErrTypeKeySuspended)).After(time.Second)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.Equal(t, contract.ErrTypeKeySuspended, h.workflowErrType(), "the original error is returned")
	require.Equal(t, concat(provisionSteps, installs, drops, []string{contract.ActivityDeregisterInstance,
		contract.ActivityMarkInstanceFailed}), h.calls(), "no server is started")
	require.ElementsMatch(t, []string{"orders-db-1", "orders-db-2", "orders-db-3"}, h.droppedNodes(),
		"the failed node ran the task, so it may hold a slot")
	h.env.AssertActivityCalled(t, contract.ActivityMarkInstanceFailed, mock.Anything, contract.MarkInstanceFailedInput{
		InstanceID: instanceID, Reason: "fixture failure of type KeySuspended",
		WorkflowID: "default-test-workflow-id/default-test-run-id"})
	h.env.AssertActivityCalled(t, contract.ActivityDeregisterInstance, mock.Anything,
		contract.DeregisterInstanceInput{RootKeyID: rootKeyID, InstanceCRN: instCRN, KPInstanceID: kpInstance})
	h.env.AssertActivityNotCalled(t, contract.ActivityMarkInstanceActive, mock.Anything, mock.Anything)
}

func TestProvision_NodeDeadlineNamesSilentNodes(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityInstallKey, "orders-db-2", contract.NodeReport{}, scheduleToStart()).
		After(contract.DefaultNodeDeadline)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.Equal(t, contract.ErrTypeNodeDeadline, h.workflowErrType())
	err := h.env.GetWorkflowError()
	require.ErrorContains(t, err, `wait for nodes of instance "orders-db": node orders-db-2 (host host-b) did not report within the 4h0m0s node deadline`)
	require.ErrorContains(t, err, "start the node agent for host host-b and provision again")
	require.NotContains(t, err.Error(), "orders-db-1")
	require.ElementsMatch(t, []string{"orders-db-1", "orders-db-3"}, h.droppedNodes(),
		"no compensation is sent to a host that never picked up its task")
	require.True(t, t0.Add(contract.DefaultNodeDeadline).Equal(h.env.Now()), "failed at the deadline, not before")
}

func TestProvision_FirstNodeFailureStopsWaitingForOthers(t *testing.T) {
	h := newHarness(t)
	// orders-db-3 reports at once, orders-db-1 fails after a minute while
	// orders-db-2's host would take an hour.
	h.onNode(contract.ActivityInstallKey, "orders-db-1", contract.NodeReport{},
		typedErr(contract.ErrTypeKeySlotConflict)).After(time.Minute)
	h.onNode(contract.ActivityInstallKey, "orders-db-2", installPending("v1")).After(time.Hour)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.Equal(t, contract.ErrTypeKeySlotConflict, h.workflowErrType())
	require.ElementsMatch(t, []string{"orders-db-1", "orders-db-3"}, h.droppedNodes(),
		"the canceled node is not compensated")
	require.Less(t, h.env.Now().Sub(t0), time.Hour, "the workflow did not wait for the slow node")
}

// InstallKey only installs the key and unlocks the storage: a node must
// report pending under the key version, nothing else.
func TestProvision_InstallNotPendingFailsNodeKeyMismatch(t *testing.T) {
	tests := []struct {
		name   string
		report contract.NodeReport
		want   string
	}{
		{"another key version", pending("orders-db-3", "host-a", "v2"),
			`node orders-db-3 (host host-a) reported "pending" under key version "v2", want "pending" under key version "v1"`},
		{"active before its server", report("orders-db-3", "host-a", "v1"),
			`node orders-db-3 (host host-a) reported "active" under key version "v1", want "pending" under key version "v1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.onNode(contract.ActivityInstallKey, "orders-db-3", tt.report, nil)
			h.mockProvision()

			h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

			require.Equal(t, contract.ErrTypeNodeKeyMismatch, h.workflowErrType())
			require.ErrorContains(t, h.env.GetWorkflowError(), tt.want)
			require.ElementsMatch(t, []string{"orders-db-1", "orders-db-2", "orders-db-3"}, h.droppedNodes())
			require.NotContains(t, h.calls(), contract.ActivityStartPrimary, "no server on a node in doubt")
			h.env.AssertActivityNotCalled(t, contract.ActivityMarkInstanceActive, mock.Anything, mock.Anything)
		})
	}
}

// scheduleToStart is the error of a node task no agent picked up in time.
func scheduleToStart() error {
	return temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
}
