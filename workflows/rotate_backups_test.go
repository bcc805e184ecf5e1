package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

func backupRecord(id, version string) contract.BackupRecord {
	return contract.BackupRecord{BackupID: id, InstanceID: instanceID, Location: id + ".byok", RootKeyID: rootKeyID,
		KeyVersionID: version, WrappedDEK: []byte("dek-" + id + "-" + version), AAD: contract.BackupAAD(id),
		State: contract.BackupComplete}
}

// rewrapBackupTo rewraps a backup's DEK to the version it was asked for.
func rewrapBackupTo(_ context.Context, in contract.RewrapBackupKeyInput) (contract.RewrapBackupKeyResult, error) {
	return contract.RewrapBackupKeyResult{KeyVersionID: in.TargetVersionID,
		WrappedDEK: []byte("dek-" + in.BackupID + "-" + in.TargetVersionID)}, nil
}

// mockBackupRewrap lists two backups under v1 and one already under v2.
func (h *harness) mockBackupRewrap() {
	h.on(contract.ActivityListBackupKeys, contract.ListBackupKeysResult{Backups: []contract.BackupRecord{
		backupRecord("b1", "v1"), backupRecord("b2", "v1"), backupRecord("b3", "v2")}}, nil)
	h.on(contract.ActivityRewrapBackupKey, rewrapBackupTo)
	h.on(contract.ActivityUpdateBackupKey, nil)
}

func TestRotate_RewrapsBackupKeysAndRecordsTheirLineage(t *testing.T) {
	h := newHarness(t)
	h.mockBackupRewrap()
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.NoError(t, h.env.GetWorkflowError())
	backupSteps := []string{contract.ActivityListBackupKeys, contract.ActivityRewrapBackupKey, contract.ActivityUpdateBackupKey,
		contract.ActivityRewrapBackupKey, contract.ActivityUpdateBackupKey}
	require.Equal(t, concat([]string{contract.ActivityLoadInstance, contract.ActivityRotateKey}, rewraps, backupSteps,
		[]string{contract.ActivityRecordKeyVersion}), h.calls(), "backups after every node, before the version is recorded")
	require.Equal(t, []string{"byokflow-node-host-a", "byokflow-node-host-a"}, h.queues[contract.ActivityRewrapBackupKey],
		"on the primary node's host")
	for _, id := range []string{"b1", "b2"} {
		b := backupRecord(id, "v1")
		h.env.AssertActivityCalled(t, contract.ActivityRewrapBackupKey, mock.Anything, contract.RewrapBackupKeyInput{
			BackupID: id, RootKeyID: rootKeyID, KeyVersionID: "v1", WrappedDEK: b.WrappedDEK, AAD: b.AAD,
			TargetVersionID: "v2", KPInstanceID: kpInstance})
		h.env.AssertActivityCalled(t, contract.ActivityUpdateBackupKey, mock.Anything, contract.UpdateBackupKeyInput{
			BackupID: id, KeyVersionID: "v2", WrappedDEK: []byte("dek-" + id + "-v2"), RequestedBy: "alice"})
	}
}

func TestRotate_BackupRewrapUnderAnotherVersionFails(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityRewrapBackupKey, contract.RewrapBackupKeyResult{KeyVersionID: "v3", WrappedDEK: []byte("x")}, nil)
	h.mockBackupRewrap()
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.Equal(t, contract.ErrTypeNodeKeyMismatch, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), `rewrap key of backup b1: the node reported key version "v3", want "v2"`)
	require.NotContains(t, h.calls(), contract.ActivityUpdateBackupKey)
	require.NotContains(t, h.calls(), contract.ActivityRecordKeyVersion)
}

func TestRotate_BackupRewrapNodeFailureFails(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityRewrapBackupKey, contract.RewrapBackupKeyResult{}, typedErr(contract.ErrTypeKeySuspended))
	h.mockBackupRewrap()
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.Equal(t, contract.ErrTypeKeySuspended, h.workflowErrType())
	require.NotContains(t, h.calls(), contract.ActivityRecordKeyVersion)
}

// A rotation started before the backup step existed takes the old path.
func TestRotate_OldVersionSkipsBackupRewrap(t *testing.T) {
	h := newHarness(t)
	h.env.OnGetVersion(changeRewrapBackupKeys, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.mockBackupRewrap()
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, concat([]string{contract.ActivityLoadInstance, contract.ActivityRotateKey}, rewraps,
		[]string{contract.ActivityRecordKeyVersion}), h.calls())
}

// testdata/rotate_v0_history.json is the history of a RotateRootKey run
// recorded on the Temporal dev server with the code of commit 57e6080,
// before the backup step existed. It must still replay.
func TestRotate_ReplaysHistoryRecordedBeforeBackupRewrap(t *testing.T) {
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(RotateRootKey, workflow.RegisterOptions{Name: contract.WorkflowRotateRootKey})

	err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/rotate_v0_history.json")

	require.NoError(t, err)
}

func TestRotate_ReplayDetectsAnUnversionedChange(t *testing.T) {
	replayer := worker.NewWorkflowReplayer()
	unversioned := func(ctx workflow.Context, in contract.RotateInput) (contract.RotateResult, error) {
		ctx = withControl(ctx)
		var list contract.ListBackupKeysResult
		err := workflow.ExecuteActivity(ctx, contract.ActivityListBackupKeys, contract.ListBackupKeysInput{}).Get(ctx, &list)
		return contract.RotateResult{}, err
	}
	replayer.RegisterWorkflowWithOptions(unversioned, workflow.RegisterOptions{Name: contract.WorkflowRotateRootKey})

	err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/rotate_v0_history.json")

	require.Error(t, err, "the replay test would catch a change made without GetVersion")
}
