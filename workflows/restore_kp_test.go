package workflows

import (
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// A restore into another Key Protect instance unwraps the backup DEK in
// the backup's instance and provisions (records, registers, installs) in
// the new one.
func TestRestore_OtherKPInstanceSplitsBackupAndNewInstance(t *testing.T) {
	h := newHarness(t)
	h.mockRestore()
	in := restoreInput()
	in.KPInstanceID = otherKPI

	h.env.ExecuteWorkflow(contract.WorkflowRestoreFromBackup, in)

	require.NoError(t, h.env.GetWorkflowError())
	h.env.AssertActivityCalled(t, contract.ActivityRestoreDatabase, mock.Anything,
		mock.MatchedBy(func(in contract.RestoreDatabaseInput) bool { return in.KPInstanceID == kpInstance }))
	h.env.AssertActivityNotCalled(t, contract.ActivityRestoreDatabase, mock.Anything,
		mock.MatchedBy(func(in contract.RestoreDatabaseInput) bool { return in.KPInstanceID != kpInstance }))
	h.env.AssertActivityCalled(t, contract.ActivityCreateInstanceRecord, mock.Anything,
		mock.MatchedBy(func(in contract.CreateInstanceRecordInput) bool { return in.KPInstanceID == otherKPI }))
	h.env.AssertActivityCalled(t, contract.ActivityValidateRootKey, mock.Anything,
		contract.ValidateRootKeyInput{RootKeyID: copyKey, KPInstanceID: otherKPI})
	h.env.AssertActivityCalled(t, contract.ActivityRegisterInstance, mock.Anything,
		contract.RegisterInstanceInput{RootKeyID: copyKey, InstanceCRN: copyCRN, KPInstanceID: otherKPI})
	h.env.AssertActivityCalled(t, contract.ActivityStartPrimary, mock.Anything, contract.StartPrimaryInput{
		InstanceID: copyID, NodeID: "orders-db-1", DatabaseName: copyDB, AdminVerifier: adminVerifier,
		RootKeyID: copyKey, KPInstanceID: otherKPI})
	for _, n := range nodes {
		h.env.AssertActivityCalled(t, contract.ActivityInstallKey, mock.Anything, contract.InstallKeyInput{
			InstanceID: copyID, NodeID: n.NodeID, RootKeyID: copyKey, AAD: contract.NodeAAD(copyID, n.NodeID),
			ExpectedVersionID: "v1", KPInstanceID: otherKPI})
	}
}
