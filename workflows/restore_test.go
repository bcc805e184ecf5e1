package workflows

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// The restore fixture: backupID of orders-db restored into orders-copy
// under another root key.
const (
	copyID   = "orders-copy"
	copyKey  = "copy-root"
	copyDB   = "byok_orders_copy"
	copyCRN  = "crn:v1:bluemix:public:databases-for-postgresql:us-south:a/acct:orders-copy::"
	otherKPI = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
)

func restoreInput() contract.RestoreInput {
	return contract.RestoreInput{BackupID: backupID, InstanceID: copyID, RootKeyID: copyKey, Nodes: 3,
		RequestedBy: "alice"}
}

func restorable() contract.CheckBackupRestorableResult {
	w := backupWritten()
	return contract.CheckBackupRestorableResult{KPInstanceID: kpInstance, Backup: contract.BackupRecord{
		BackupID: backupID, InstanceID: instanceID, Location: w.Location, Bytes: w.Bytes, SHA256: w.SHA256,
		RootKeyID: rootKeyID, KeyVersionID: "v1", WrappedDEK: w.WrappedDEK, AAD: contract.BackupAAD(backupID),
		State: contract.BackupComplete}}
}

// mockRestore mocks a restore whose child provision succeeds (through the
// real ProvisionEncryptedInstance and mocked activities).
func (h *harness) mockRestore() {
	h.on(contract.ActivityCheckBackupRestorable, restorable(), nil)
	h.on(contract.ActivityCreateInstanceRecord, contract.CreateInstanceRecordResult{
		InstanceCRN: copyCRN, DatabaseName: copyDB, Nodes: nodes}, nil)
	h.mockProvision()
	h.on(contract.ActivityLoadInstance, contract.LoadInstanceResult{RootKeyID: copyKey, KPInstanceID: kpInstance,
		KeyVersionID: "v1", Nodes: nodes, State: contract.InstanceActive, InstanceCRN: copyCRN, DatabaseName: copyDB}, nil)
	h.on(contract.ActivityRestoreDatabase, contract.RestoreDatabaseResult{Bytes: 8192, Tables: 4, Rows: 1200}, nil)
}

var restoreChecks = []string{contract.ActivityCheckBackupRestorable, contract.ActivityCheckServiceAuthorization}

func TestRestore_HappyPath(t *testing.T) {
	h := newHarness(t)
	h.mockRestore()
	got := h.recordSearchAttributes()

	h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.RestoreResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, copyID, res.InstanceID)
	require.Equal(t, backupID, res.BackupID)
	require.Equal(t, contract.RestoreDatabaseResult{Bytes: 8192, Tables: 4, Rows: 1200},
		contract.RestoreDatabaseResult{Bytes: res.Bytes, Tables: res.Tables, Rows: res.Rows})
	require.Equal(t, copyCRN, res.Provision.InstanceCRN)
	require.Len(t, res.Provision.Nodes, 3, "the child completed only when every new node reported")
	require.Equal(t, concat(restoreChecks, provisionSteps, installs, []string{contract.ActivityMarkInstanceActive,
		contract.ActivityLoadInstance, contract.ActivityRestoreDatabase}), h.calls())
	require.Equal(t, map[string]string{"ByokInstanceID": copyID, "ByokRootKeyID": copyKey, "ByokOperation": "restore"}, got)
}

func TestRestore_SendsTheBackupLineageToANewNode(t *testing.T) {
	h := newHarness(t)
	h.mockRestore()

	h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

	require.NoError(t, h.env.GetWorkflowError())
	w := backupWritten()
	h.env.AssertActivityCalled(t, contract.ActivityRestoreDatabase, mock.Anything, contract.RestoreDatabaseInput{
		InstanceID: copyID, NodeID: "orders-db-1", DatabaseName: copyDB, BackupID: backupID, Location: w.Location,
		SHA256: w.SHA256, RootKeyID: rootKeyID, KeyVersionID: "v1", WrappedDEK: w.WrappedDEK,
		AAD: contract.BackupAAD(backupID), KPInstanceID: kpInstance})
	require.Equal(t, []string{"byokflow-node-host-a"}, h.queues[contract.ActivityRestoreDatabase])
	h.env.AssertActivityCalled(t, contract.ActivityCreateInstanceRecord, mock.Anything,
		mock.MatchedBy(func(in contract.CreateInstanceRecordInput) bool {
			return in.InstanceID == copyID && in.RootKeyID == copyKey && in.KPInstanceID == kpInstance &&
				strings.HasPrefix(in.WorkflowID, "provision-"+copyID+"/")
		}))
}

func TestRestore_ExplicitKPInstanceReachesTheChild(t *testing.T) {
	h := newHarness(t)
	h.mockRestore()
	in := restoreInput()
	in.KPInstanceID = otherKPI

	h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, in)

	require.NoError(t, h.env.GetWorkflowError())
	h.env.AssertActivityCalled(t, contract.ActivityCheckServiceAuthorization, mock.Anything,
		contract.CheckServiceAuthorizationInput{KPInstanceID: otherKPI})
	h.env.AssertActivityNotCalled(t, contract.ActivityCheckServiceAuthorization, mock.Anything,
		contract.CheckServiceAuthorizationInput{KPInstanceID: kpInstance})
}

// Nothing is created before the checks pass: no child, no activity past
// the failed check.
func TestRestore_FailedChecksCreateNothing(t *testing.T) {
	tests := []struct {
		name      string
		activity  string
		ret       []any
		wantType  string
		wantCalls []string
	}{
		{"key destroyed", contract.ActivityCheckBackupRestorable,
			[]any{contract.CheckBackupRestorableResult{}, contract.NewError(contract.ErrTypeBackupUnrecoverable,
				"restore backup "+backupID+": root key "+rootKeyID+" is destroyed; this backup cannot be restored", nil)},
			contract.ErrTypeBackupUnrecoverable, restoreChecks[:1]},
		{"key disabled", contract.ActivityCheckBackupRestorable,
			[]any{contract.CheckBackupRestorableResult{}, contract.NewError(contract.ErrTypeKeySuspended,
				"restore backup "+backupID+": root key "+rootKeyID+" is disabled: re-enable root key "+rootKeyID+" and retry", nil)},
			contract.ErrTypeKeySuspended, restoreChecks[:1]},
		{"backup missing", contract.ActivityCheckBackupRestorable,
			[]any{contract.CheckBackupRestorableResult{}, typedErr(contract.ErrTypeBackupNotFound)},
			contract.ErrTypeBackupNotFound, restoreChecks[:1]},
		{"authorization missing", contract.ActivityCheckServiceAuthorization,
			[]any{contract.CheckServiceAuthorizationResult{}, typedErr(contract.ErrTypeServiceNotAuthorized)},
			contract.ErrTypeServiceNotAuthorized, restoreChecks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.on(tt.activity, tt.ret...)
			h.mockRestore()

			h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

			require.Equal(t, tt.wantType, h.workflowErrType())
			require.Equal(t, tt.wantCalls, h.calls())
		})
	}
}

func TestRestore_MessagesGuideTheUser(t *testing.T) {
	for errType, want := range map[string]string{
		contract.ErrTypeBackupUnrecoverable: "root key orders-root is destroyed; this backup cannot be restored",
		contract.ErrTypeKeySuspended:        "re-enable root key orders-root and retry",
	} {
		h := newHarness(t)
		h.on(contract.ActivityCheckBackupRestorable, contract.CheckBackupRestorableResult{},
			contract.NewError(errType, "restore backup "+backupID+": "+want, nil))
		h.mockRestore()

		h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

		require.ErrorContains(t, h.env.GetWorkflowError(), want)
	}
}

func TestRestore_CorruptBackupUndoesTheNewInstance(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityRestoreDatabase, contract.RestoreDatabaseResult{}, typedErr(contract.ErrTypeBackupCorrupt))
	h.mockRestore()

	h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

	require.Equal(t, contract.ErrTypeBackupCorrupt, h.workflowErrType(), "the restore's error is returned")
	require.Equal(t, concat(restoreChecks, provisionSteps, installs, []string{contract.ActivityMarkInstanceActive,
		contract.ActivityLoadInstance, contract.ActivityRestoreDatabase}, drops, []string{contract.ActivityDropInstanceDatabase,
		contract.ActivityDeregisterInstance, contract.ActivityMarkInstanceFailed}), h.calls())
	require.ElementsMatch(t, []string{"orders-db-1", "orders-db-2", "orders-db-3"}, h.droppedNodes())
	h.env.AssertActivityCalled(t, contract.ActivityDropInstanceDatabase, mock.Anything,
		contract.DropInstanceDatabaseInput{InstanceID: copyID, DatabaseName: copyDB})
	h.env.AssertActivityCalled(t, contract.ActivityDeregisterInstance, mock.Anything,
		contract.DeregisterInstanceInput{RootKeyID: copyKey, InstanceCRN: copyCRN, KPInstanceID: kpInstance})
	h.env.AssertActivityCalled(t, contract.ActivityMarkInstanceFailed, mock.Anything,
		contract.MarkInstanceFailedInput{InstanceID: copyID, Reason: "fixture failure of type BackupCorrupt"})
}

func TestRestore_ChildFailureIsReturnedTyped(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityCreateInstanceRecord, contract.CreateInstanceRecordResult{},
		typedErr(contract.ErrTypeInstanceExists))
	h.mockRestore()

	h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

	require.Equal(t, contract.ErrTypeInstanceExists, h.workflowErrType())
	require.NotContains(t, h.calls(), contract.ActivityRestoreDatabase)
	require.NotContains(t, h.calls(), contract.ActivityDeregisterInstance, "nothing was registered")
}

func TestRestore_InvalidInputStartsNothing(t *testing.T) {
	for name, mutate := range map[string]func(*contract.RestoreInput){
		"no backup":     func(in *contract.RestoreInput) { in.BackupID = "" },
		"bad name":      func(in *contract.RestoreInput) { in.InstanceID = "Orders Copy" },
		"no root key":   func(in *contract.RestoreInput) { in.RootKeyID = "" },
		"bad kp":        func(in *contract.RestoreInput) { in.KPInstanceID = "kp" },
		"too many node": func(in *contract.RestoreInput) { in.Nodes = 12 },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			in := restoreInput()
			mutate(&in)

			h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, in)

			require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
			require.Empty(t, h.calls())
		})
	}
}
