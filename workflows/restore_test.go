package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

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
		RequestedBy: "alice", AdminVerifier: adminVerifier}
}

func restorable() contract.CheckBackupRestorableResult {
	w := backupWritten()
	return contract.CheckBackupRestorableResult{KPInstanceID: kpInstance, Backup: contract.BackupRecord{
		BackupID: backupID, InstanceID: instanceID, Location: w.Location, Bytes: w.Bytes, SHA256: w.SHA256,
		RootKeyID: rootKeyID, KeyVersionID: "v1", WrappedDEK: w.WrappedDEK, AAD: contract.BackupAAD(backupID),
		State: contract.BackupComplete}}
}

// mockRestore mocks a restore whose child provision succeeds (through the
// real ProvisionEncryptedInstance and mocked activities) and leaves the
// new instance pending, and whose new nodes all serve the loaded data.
func (h *harness) mockRestore() {
	h.on(contract.ActivityCheckBackupRestorable, restorable(), nil)
	h.on(contract.ActivityCreateInstanceRecord, contract.CreateInstanceRecordResult{
		InstanceCRN: copyCRN, DatabaseName: copyDB, Nodes: nodes}, nil)
	h.on(contract.ActivityLoadInstance, contract.LoadInstanceResult{RootKeyID: copyKey, KPInstanceID: kpInstance,
		KeyVersionID: "v1", Nodes: nodes, State: contract.InstancePending, InstanceCRN: copyCRN, DatabaseName: copyDB}, nil)
	h.mockProvision()
	h.on(contract.ActivityRestoreDatabase, contract.RestoreDatabaseResult{Bytes: 8192, Tables: 4, Rows: 1200}, nil)
	h.on(contract.ActivityReportStatus, serving("v1"))
}

// serving reports the first fixture node serving as primary and the others
// streaming as standbys, under version.
func serving(version string) func(context.Context, contract.ReportStatusInput) (contract.NodeReport, error) {
	return func(_ context.Context, in contract.ReportStatusInput) (contract.NodeReport, error) {
		if in.NodeID == nodes[0].NodeID {
			return primaryReport(in.NodeID, version), nil
		}
		return standbyReport(in.NodeID, version), nil
	}
}

var (
	restoreChecks = []string{contract.ActivityCheckBackupRestorable, contract.ActivityCheckKPInstance,
		contract.ActivityCheckServiceAuthorization}
	// restoreSteps is a restore up to its load, past the child provision,
	// which leaves the instance pending.
	restoreSteps = concat(restoreChecks, provisionSteps, installs, servers,
		[]string{contract.ActivityLoadInstance, contract.ActivityRestoreDatabase})
	statuses = []string{contract.ActivityReportStatus, contract.ActivityReportStatus, contract.ActivityReportStatus}
)

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
	require.Equal(t, concat(restoreSteps, statuses, []string{contract.ActivityMarkInstanceActive}), h.calls(),
		"active only once every new node serves the loaded data")
	h.env.AssertActivityNumberOfCalls(t, contract.ActivityMarkInstanceActive, 1)
	h.env.AssertActivityCalled(t, contract.ActivityMarkInstanceActive, mock.Anything,
		contract.MarkInstanceActiveInput{InstanceID: copyID, KeyVersionID: "v1"})
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
	require.Equal(t, concat(restoreSteps, drops, []string{contract.ActivityDeregisterInstance,
		contract.ActivityMarkInstanceFailed}), h.calls(), "no status check, never marked active")
	require.ElementsMatch(t, []string{"orders-db-1", "orders-db-2", "orders-db-3"}, h.droppedNodes())
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
		"no verifier":   func(in *contract.RestoreInput) { in.AdminVerifier = "" },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			in := restoreInput()
			mutate(&in)

			h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, in)

			require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
			require.Empty(t, h.allCalls())
		})
	}
}

func TestRestore_ChecksEveryNewNodeBeforeActivating(t *testing.T) {
	h := newHarness(t)
	h.mockRestore()

	h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

	require.NoError(t, h.env.GetWorkflowError())
	for _, n := range nodes {
		h.env.AssertActivityCalled(t, contract.ActivityReportStatus, mock.Anything,
			contract.ReportStatusInput{InstanceID: copyID, NodeID: n.NodeID})
	}
	require.ElementsMatch(t, []string{"byokflow-node-host-a", "byokflow-node-host-b", "byokflow-node-host-a"},
		h.queues[contract.ActivityReportStatus])
	all := h.allCalls()
	require.Equal(t, contract.ActivityMarkInstanceActive, all[len(all)-1])
	require.ElementsMatch(t, concat(statuses, []string{contract.ActivityRecordNodeReports,
		contract.ActivityRecordNodeReports, contract.ActivityRecordNodeReports}), all[len(all)-7:len(all)-1],
		"every status is checked and recorded before the instance is marked active")
	got := h.recordedReports()
	require.ElementsMatch(t, []contract.NodeReport{primaryReport("orders-db-1", "v1"), standbyReport("orders-db-2", "v1"),
		standbyReport("orders-db-3", "v1")}, got[len(got)-3:])
}

// The instance is marked active only when every new node serves the
// loaded data; otherwise the new instance is undone.
func TestRestore_NodeNotServingUndoesTheNewInstance(t *testing.T) {
	tests := []struct {
		name     string
		node     string
		ret      []any
		wantType string
		wantText string
	}{
		{"standby does not stream", "orders-db-3", []any{notStreaming("orders-db-3"), nil},
			contract.ErrTypeNodeKeyMismatch, `node orders-db-3 (host host-a) reported "error" under key version "v1"`},
		{"primary under another version", "orders-db-1", []any{primaryReport("orders-db-1", "v2"), nil},
			contract.ErrTypeNodeKeyMismatch, `node orders-db-1 (host host-a) reported "active" under key version "v2"`},
		{"standby server down", "orders-db-2", []any{contract.NodeReport{}, typedErr(contract.ErrTypeNodeNotServing)},
			contract.ErrTypeNodeNotServing, "fixture failure of type NodeNotServing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			// The node answers last, so every status check has started.
			h.onNode(contract.ActivityReportStatus, tt.node, tt.ret...).After(time.Minute)
			h.mockRestore()

			h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

			require.Equal(t, tt.wantType, h.workflowErrType())
			require.ErrorContains(t, h.env.GetWorkflowError(), tt.wantText)
			require.Equal(t, concat(restoreSteps, statuses, drops, []string{contract.ActivityDeregisterInstance,
				contract.ActivityMarkInstanceFailed}), h.calls())
			require.ElementsMatch(t, []string{"orders-db-1", "orders-db-2", "orders-db-3"}, h.droppedNodes())
			h.env.AssertActivityCalled(t, contract.ActivityMarkInstanceFailed, mock.Anything,
				mock.MatchedBy(func(in contract.MarkInstanceFailedInput) bool { return in.InstanceID == copyID }))
			h.env.AssertActivityNotCalled(t, contract.ActivityMarkInstanceActive, mock.Anything, mock.Anything)
		})
	}
}

func TestRestore_MarkActiveFailureUndoesTheNewInstance(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityMarkInstanceActive, typedErr(contract.ErrTypeInstanceNotFound))
	h.mockRestore()

	h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, restoreInput())

	require.Equal(t, contract.ErrTypeInstanceNotFound, h.workflowErrType())
	require.Equal(t, concat(restoreSteps, statuses, []string{contract.ActivityMarkInstanceActive}, drops,
		[]string{contract.ActivityDeregisterInstance, contract.ActivityMarkInstanceFailed}), h.calls())
}
