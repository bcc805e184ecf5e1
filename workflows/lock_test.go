package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// instanceOps are the workflows that take their instance's lock, each with
// a successful run mocked.
var instanceOps = []struct {
	name     string
	workflow string
	input    func() any
	mock     func(h *harness)
}{
	{"provision", contract.WorkflowProvisionEncryptedInstance, func() any { return provisionInput() }, (*harness).mockProvision},
	{"rotate", contract.WorkflowRotateRootKey, func() any { return rotateInput() }, (*harness).mockRotate},
	{"backup", contract.WorkflowBackupInstance, func() any { return backupInput() }, (*harness).mockBackup},
	{"restore", contract.WorkflowRestoreFromBackup, func() any { return restoreInput() }, (*harness).mockRestore},
	{"shred", contract.WorkflowCryptoShred, func() any { return shredInput() }, (*harness).mockShred},
	{"suspend", contract.WorkflowSuspendInstance, func() any { return suspendInput() }, mockSuspendAny},
	{"resume", contract.WorkflowResumeInstance, func() any { return resumeInput() }, mockSuspendAny},
}

func mockSuspendAny(h *harness) { h.mockSuspend(new([]string)) }

func (h *harness) lockCallsMade() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, name := range h.started {
		if name == contract.ActivityAcquireInstanceOperation || name == contract.ActivityReleaseInstanceOperation {
			out = append(out, name)
		}
	}
	return out
}

func TestLock_BusyInstanceRefusesBeforeAnyStep(t *testing.T) {
	for _, op := range instanceOps {
		t.Run(op.name, func(t *testing.T) {
			h := newHarness(t)
			h.lockBusy = contract.NewError(contract.ErrTypeInstanceBusy,
				"rotate instance \"orders-db\": workflow rotate-orders-db (rotate) runs: wait for it", nil)
			op.mock(h)

			h.env.ExecuteWorkflow(op.workflow, op.input())

			require.Equal(t, contract.ErrTypeInstanceBusy, h.workflowErrType())
			require.Contains(t, h.env.GetWorkflowError().Error(), "rotate-orders-db")
			require.Empty(t, h.calls(), "nothing runs on a busy instance")
			require.Equal(t, []string{contract.ActivityAcquireInstanceOperation}, h.lockCallsMade(),
				"nothing to release")
		})
	}
}

func TestLock_ReleasedLastOnSuccess(t *testing.T) {
	for _, op := range instanceOps {
		t.Run(op.name, func(t *testing.T) {
			h := newHarness(t)
			op.mock(h)

			h.env.ExecuteWorkflow(op.workflow, op.input())

			require.NoError(t, h.env.GetWorkflowError())
			require.Empty(t, h.locked, "every lock taken is released")
			all := h.started
			require.Equal(t, contract.ActivityAcquireInstanceOperation, all[0], "the lock comes first")
			require.Equal(t, contract.ActivityReleaseInstanceOperation, all[len(all)-1], "and is released last")
		})
	}
}

func TestLock_ReleasedAfterCompensationOnFailure(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityInstallKey, "orders-db-2", contract.NodeReport{}, typedErr(contract.ErrTypeKeySuspended))
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.Equal(t, contract.ErrTypeKeySuspended, h.workflowErrType())
	require.Empty(t, h.locked)
	all := h.started
	require.Equal(t, contract.ActivityMarkInstanceFailed, all[len(all)-2], "compensation first")
	require.Equal(t, contract.ActivityReleaseInstanceOperation, all[len(all)-1], "then the lock")
}

func TestLock_RestoreLocksTheNewInstanceAndTheBackupsChildProvisionRunsUnderIt(t *testing.T) {
	h := newHarness(t)
	h.mockRestore()

	h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

	require.NoError(t, h.env.GetWorkflowError())
	h.env.AssertActivityNumberOfCalls(t, contract.ActivityAcquireInstanceOperation, 3)
	h.env.AssertActivityCalled(t, contract.ActivityAcquireInstanceOperation, mock.Anything,
		mock.MatchedBy(func(in contract.AcquireInstanceOperationInput) bool {
			return in.InstanceID == copyID && in.Operation == contract.OperationProvision && in.ParentWorkflowID != ""
		}))
	h.env.AssertActivityCalled(t, contract.ActivityAcquireInstanceOperation, mock.Anything,
		mock.MatchedBy(func(in contract.AcquireInstanceOperationInput) bool {
			return in.InstanceID == copyID && in.Operation == contract.OperationRestore
		}))
	h.env.AssertActivityCalled(t, contract.ActivityAcquireInstanceOperation, mock.Anything,
		mock.MatchedBy(func(in contract.AcquireInstanceOperationInput) bool {
			return in.InstanceID == instanceID && in.Operation == contract.OperationRestore
		}))
	require.Empty(t, h.locked)
}

func TestCompensation_FailureMarksNeedsAttention(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityInstallKey, "orders-db-2", contract.NodeReport{}, typedErr(contract.ErrTypeKeySuspended))
	h.on(contract.ActivityDeregisterInstance, typedErr(contract.ErrTypeAccessDenied))
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.Equal(t, contract.ErrTypeKeySuspended, h.workflowErrType(), "the original error is returned")
	require.Len(t, h.attention, 1)
	got := h.attention[0]
	require.Equal(t, instanceID, got.InstanceID)
	require.Equal(t, contract.OperationProvision, got.Attention.Operation)
	require.Equal(t, contract.ActivityDeregisterInstance, got.Attention.Step)
	require.Contains(t, got.Attention.Error, "AccessDenied")
	h.env.AssertActivityCalled(t, contract.ActivityMarkInstanceFailed, mock.Anything, mock.Anything)
}

func TestCompensation_AllSucceedingLeavesNoMark(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityInstallKey, "orders-db-2", contract.NodeReport{}, typedErr(contract.ErrTypeKeySuspended))
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.Equal(t, contract.ErrTypeKeySuspended, h.workflowErrType())
	require.Empty(t, h.attention)
}

// markedInstance is the record a provision left whose compensation
// failed at DropKeySlot.
func markedInstance(operation string) contract.LoadInstanceResult {
	return contract.LoadInstanceResult{RootKeyID: rootKeyID, KPInstanceID: kpInstance, Nodes: nodes,
		State: contract.InstanceNeedsAttention, InstanceCRN: instCRN, DatabaseName: "orders_db",
		Attention: &contract.Attention{Operation: operation, Step: contract.ActivityDropKeySlot,
			Subject: instanceID, Error: "host host-a is down", WorkflowID: "provision-orders-db"}}
}

func TestProvision_ReRunFinishesTheRollbackLeftThenProvisions(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityLoadInstance, markedInstance(contract.OperationProvision), nil)
	h.on(contract.ActivityClearNeedsAttention, nil)
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.NoError(t, h.env.GetWorkflowError())
	rollback := concat(drops, []string{contract.ActivityDeregisterInstance, contract.ActivityMarkInstanceFailed,
		contract.ActivityClearNeedsAttention})
	require.Equal(t, concat(provisionSteps[:4], rollback, provisionSteps[4:]), h.calls()[:len(provisionSteps)+len(rollback)])
	require.ElementsMatch(t, []string{"orders-db-1", "orders-db-2", "orders-db-3"}, h.droppedNodes())
}

func TestProvision_ReRunWhoseRollbackFailsAgainStopsBeforeCreating(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityLoadInstance, markedInstance(contract.OperationRestore), nil)
	h.on(contract.ActivityDeregisterInstance, typedErr(contract.ErrTypeAccessDenied))
	h.mockProvision()

	h.env.ExecuteWorkflow(contract.WorkflowProvisionEncryptedInstance, provisionInput())

	require.Equal(t, contract.ErrTypeAccessDenied, h.workflowErrType())
	h.env.AssertActivityNotCalled(t, contract.ActivityCreateInstanceRecord, mock.Anything, mock.Anything)
	h.env.AssertActivityNotCalled(t, contract.ActivityClearNeedsAttention, mock.Anything, mock.Anything)
}

func TestBackup_ReRunFailsTheEarlierBackupAndClearsTheMark(t *testing.T) {
	h := newHarness(t)
	inst := markedInstance(contract.OperationBackup)
	inst.Attention.Step, inst.Attention.Subject = contract.ActivityFailBackupRecord, "orders-db-20300101T000000Z"
	h.on(contract.ActivityLoadInstance, inst, nil)
	var failed []string
	h.on(contract.ActivityFailBackupRecord, func(_ context.Context, in contract.FailBackupRecordInput) error {
		failed = append(failed, in.BackupID)
		return nil
	})
	h.on(contract.ActivityClearNeedsAttention, nil)
	h.mockBackup()

	h.env.ExecuteWorkflow(contract.WorkflowBackupInstance, backupInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, []string{"orders-db-20300101T000000Z"}, failed)
	h.env.AssertActivityCalled(t, contract.ActivityClearNeedsAttention, mock.Anything,
		contract.ClearNeedsAttentionInput{InstanceID: instanceID})
}

func TestRequireActive_NeedsAttention(t *testing.T) {
	tests := []struct {
		operation string
		wantErr   bool
	}{
		{contract.OperationProvision, true},
		{contract.OperationRestore, true},
		{contract.OperationBackup, false},
	}
	for _, tc := range tests {
		t.Run(tc.operation, func(t *testing.T) {
			inst := markedInstance(tc.operation)
			err := requireActive("rotate root key of instance", instanceID, inst)
			if !tc.wantErr {
				require.NoError(t, err, "an instance whose backup left a mark still serves")
				require.False(t, rollbackLeft(inst))
				return
			}
			require.True(t, rollbackLeft(inst))
			require.Equal(t, contract.ErrTypeInstanceNotActive, contract.ErrorType(err))
			for _, want := range []string{"needs attention", "DropKeySlot", "host host-a is down", "provision it again"} {
				require.Contains(t, err.Error(), want)
			}
			require.NoError(t, checkShreddable(instanceID, inst), "a crypto-shred clears any mark")
		})
	}
	require.False(t, rollbackLeft(contract.LoadInstanceResult{State: contract.InstanceFailed}))
	require.False(t, servesDespite(contract.LoadInstanceResult{State: contract.InstanceActive}))
}
