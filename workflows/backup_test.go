package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// backupID is the id BackupInstance derives from the start time t0.
const backupID = "orders-db-20300102T030405.000"

// activeInstance is the catalog record of orders-db, active at v1.
func activeInstance() contract.LoadInstanceResult {
	return contract.LoadInstanceResult{RootKeyID: rootKeyID, KPInstanceID: kpInstance, KeyVersionID: "v1",
		Nodes: nodes, State: contract.InstanceActive, InstanceCRN: instCRN, DatabaseName: "byok_orders_db"}
}

func backupWritten() contract.BackupDatabaseResult {
	return contract.BackupDatabaseResult{BackupID: backupID, Location: backupID + ".byok", Bytes: 8192,
		SHA256: "c0ffee", RootKeyID: rootKeyID, KeyVersionID: "v1", WrappedDEK: []byte("wrapped-backup-dek"),
		Tables: 4, Rows: 1200}
}

// mockBackup mocks a successful backup of orders-db.
func (h *harness) mockBackup() {
	h.on(contract.ActivityLoadInstance, activeInstance(), nil)
	h.on(contract.ActivityCreateBackupRecord, nil)
	h.on(contract.ActivityBackupDatabase, backupWritten(), nil)
	h.on(contract.ActivityCompleteBackupRecord, nil)
	h.on(contract.ActivityFailBackupRecord, nil)
}

func backupInput() contract.BackupInput {
	return contract.BackupInput{InstanceID: instanceID, RequestedBy: "alice"}
}

func TestBackup_HappyPath(t *testing.T) {
	h := newHarness(t)
	h.mockBackup()

	h.env.ExecuteWorkflow(contract.WorkflowBackupInstance, backupInput())

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.BackupResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, contract.BackupResult{BackupID: backupID, InstanceID: instanceID, Location: backupID + ".byok",
		Bytes: 8192, SHA256: "c0ffee", RootKeyID: rootKeyID, KeyVersionID: "v1", Tables: 4, Rows: 1200}, res)
	require.Equal(t, []string{contract.ActivityLoadInstance, contract.ActivityCreateBackupRecord,
		contract.ActivityBackupDatabase, contract.ActivityCompleteBackupRecord}, h.calls())
	require.Equal(t, []string{"byokflow-node-host-a"}, h.queues[contract.ActivityBackupDatabase], "the primary's host")
	h.env.AssertActivityCalled(t, contract.ActivityCreateBackupRecord, mock.Anything, contract.CreateBackupRecordInput{
		BackupID: backupID, InstanceID: instanceID, RootKeyID: rootKeyID, KeyVersionID: "v1", RequestedBy: "alice"})
	h.env.AssertActivityCalled(t, contract.ActivityBackupDatabase, mock.Anything, contract.BackupDatabaseInput{
		InstanceID: instanceID, NodeID: "orders-db-1", BackupID: backupID, DatabaseName: "byok_orders_db",
		RootKeyID: rootKeyID, AAD: contract.BackupAAD(backupID), KPInstanceID: kpInstance})
	h.env.AssertActivityCalled(t, contract.ActivityCompleteBackupRecord, mock.Anything, contract.CompleteBackupRecordInput{
		BackupID: backupID, InstanceID: instanceID, Location: backupID + ".byok", Bytes: 8192, SHA256: "c0ffee",
		RootKeyID: rootKeyID, KeyVersionID: "v1", WrappedDEK: []byte("wrapped-backup-dek"),
		AAD: contract.BackupAAD(backupID), RequestedBy: "alice"})
}

// A run started before backup ids had milliseconds replays with the id
// it recorded then, to the second.
func TestBackup_RunFromBeforeMillisecondIdsKeepsItsId(t *testing.T) {
	h := newHarness(t)
	h.env.OnGetVersion(versionBackupIDMillis, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.mockBackup()

	h.env.ExecuteWorkflow(contract.WorkflowBackupInstance, backupInput())

	require.NoError(t, h.env.GetWorkflowError())
	h.env.AssertActivityCalled(t, contract.ActivityCreateBackupRecord, mock.Anything, contract.CreateBackupRecordInput{
		BackupID: "orders-db-20300102T030405", InstanceID: instanceID, RootKeyID: rootKeyID, KeyVersionID: "v1",
		RequestedBy: "alice"})
}

func TestBackup_NodeFailureMarksRecordFailed(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityBackupDatabase, contract.BackupDatabaseResult{}, typedErr(contract.ErrTypeKeySuspended))
	h.mockBackup()

	h.env.ExecuteWorkflow(contract.WorkflowBackupInstance, backupInput())

	require.Equal(t, contract.ErrTypeKeySuspended, h.workflowErrType())
	require.Equal(t, []string{contract.ActivityLoadInstance, contract.ActivityCreateBackupRecord,
		contract.ActivityBackupDatabase, contract.ActivityFailBackupRecord}, h.calls())
	h.env.AssertActivityCalled(t, contract.ActivityFailBackupRecord, mock.Anything, contract.FailBackupRecordInput{
		BackupID: backupID, Reason: "fixture failure of type KeySuspended"})
}

func TestBackup_NodeDeadlineNamesThePrimary(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityBackupDatabase, contract.BackupDatabaseResult{}, scheduleToStart()).
		After(contract.DefaultNodeDeadline)
	h.mockBackup()

	h.env.ExecuteWorkflow(contract.WorkflowBackupInstance, backupInput())

	require.Equal(t, contract.ErrTypeNodeDeadline, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), "node orders-db-1 (host host-a) did not report")
	require.ErrorContains(t, h.env.GetWorkflowError(), "start the node agent for host host-a and back up again")
	require.Contains(t, h.calls(), contract.ActivityFailBackupRecord)
}

func TestBackup_RecordCompletionFailureMarksFailed(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityCompleteBackupRecord, typedErr(contract.ErrTypeInvalidInput))
	h.mockBackup()

	h.env.ExecuteWorkflow(contract.WorkflowBackupInstance, backupInput())

	require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
	require.Equal(t, contract.ActivityFailBackupRecord, h.calls()[len(h.calls())-1])
}

func TestBackup_RefusalsCreateNoRecord(t *testing.T) {
	pending := activeInstance()
	pending.State = contract.InstancePending
	tests := []struct {
		name     string
		load     []any
		wantType string
	}{
		{"not found", []any{contract.LoadInstanceResult{}, typedErr(contract.ErrTypeInstanceNotFound)}, contract.ErrTypeInstanceNotFound},
		{"pending", []any{pending, nil}, contract.ErrTypeInstanceNotActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.on(contract.ActivityLoadInstance, tt.load...)
			h.mockBackup()

			h.env.ExecuteWorkflow(contract.WorkflowBackupInstance, backupInput())

			require.Equal(t, tt.wantType, h.workflowErrType())
			require.Equal(t, []string{contract.ActivityLoadInstance}, h.calls())
		})
	}
	h := newHarness(t)
	h.env.ExecuteWorkflow(contract.WorkflowBackupInstance, contract.BackupInput{InstanceID: "Bad Name"})
	require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
	require.Empty(t, h.calls())
}

func TestBackup_ProgressAndSearchAttributes(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityBackupDatabase, backupWritten(), nil).After(time.Hour)
	h.mockBackup()
	got := h.recordSearchAttributes()
	var mid contract.Progress
	h.env.RegisterDelayedCallback(func() { mid = h.queryProgress() }, 30*time.Minute)

	h.env.ExecuteWorkflow(contract.WorkflowBackupInstance, backupInput())

	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, map[string]string{"ByokInstanceID": instanceID, "ByokRootKeyID": rootKeyID,
		"ByokOperation": "backup"}, got)
	require.Equal(t, contract.OperationBackup, mid.Operation)
	require.Equal(t, "write backup on the primary node", mid.Step)
	require.Len(t, mid.Nodes, 1)
	require.Equal(t, contract.ProgressWaiting, mid.Nodes[0].State)
	done := h.queryProgress()
	require.Equal(t, "done", done.Step)
	require.Equal(t, contract.ProgressDone, done.Nodes[0].State)
}

// recordSearchAttributes collects the keyword search attributes the
// workflow upserts. The first value of each wins: a child workflow upserts
// its own later.
func (h *harness) recordSearchAttributes() map[string]string {
	got := map[string]string{}
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		for _, k := range []temporal.SearchAttributeKeyKeyword{contract.InstanceIDKey, contract.RootKeyIDKey, contract.OperationKey} {
			if _, seen := got[k.GetName()]; seen {
				continue
			}
			if v, ok := sa.GetKeyword(k); ok {
				got[k.GetName()] = v
			}
		}
	}).Return(nil)
	return got
}
