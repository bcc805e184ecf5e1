package workflows

import (
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// The operator rotated the imported key with new material from the CLI:
// the workflow only reads the new version and rewraps, and says it rotated.
func TestRotate_MaterialRotatedRewrapsWithoutRotating(t *testing.T) {
	h := newHarness(t)
	h.mockRotate()
	in := rotateInput()
	in.MaterialRotated = true

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, in)

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.RotateResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.True(t, res.Rotated, "the key moved from v1 to v2")
	require.Equal(t, "v2", res.KeyVersionID)
	require.Equal(t, concat([]string{contract.ActivityLoadInstance, contract.ActivityReadKeyVersion}, rewraps,
		[]string{contract.ActivityListBackupKeys, contract.ActivityRecordKeyVersion}), h.calls())
	h.env.AssertActivityCalled(t, contract.ActivityReadKeyVersion, mock.Anything,
		contract.ReadKeyVersionInput{RootKeyID: rootKeyID, KPInstanceID: kpInstance})
}

// The CLI found the key already past the recorded version and did not
// rotate; if Key Protect still reports the recorded one, nothing rotated.
func TestRotate_MaterialRotatedAtRecordedVersionIsNotRotated(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityReadKeyVersion, contract.ReadKeyVersionResult{KeyVersionID: "v1"}, nil)
	h.mockRotate()
	in := rotateInput()
	in.MaterialRotated = true

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, in)

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.RotateResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.False(t, res.Rotated)
	require.Equal(t, "v1", res.KeyVersionID)
}

func TestRotate_ImportedKeyWithoutMaterialFailsTyped(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityRotateKey, contract.RotateKeyResult{}, contract.NewError(contract.ErrTypeKeyMaterialRequired,
		"rotate root key "+rootKeyID+": the key was imported: rotate it with `starter rotate --material-file FILE`", nil))
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowRotateRootKey, rotateInput())

	require.Equal(t, contract.ErrTypeKeyMaterialRequired, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), "--material-file")
	require.NotContains(t, h.calls(), contract.ActivityRewrapKey)
	require.NotContains(t, h.calls(), contract.ActivityRecordKeyVersion)
	h.env.AssertActivityNumberOfCalls(t, contract.ActivityRotateKey, 1)
}

func TestShredStatement_NamesImportedRootKey(t *testing.T) {
	cert := contract.ShredCertificate{InstanceID: instanceID, RootKeyID: rootKeyID, KeyDeleted: true,
		Key: contract.RootKeyState{RootKeyID: rootKeyID, StateName: "Destroyed", Imported: true}}
	require.Contains(t, shredStatement(cert), "imported root key "+rootKeyID+" was deleted")
	cert.KeyDeleted = false
	require.Contains(t, shredStatement(cert), "imported root key "+rootKeyID+" was kept")
	cert.Key.Imported = false
	require.NotContains(t, shredStatement(cert), "imported")
}

func TestShred_CertificateSaysKeyWasImported(t *testing.T) {
	h := newHarness(t)
	imported := keyState(contract.KPStateDestroyed, "Destroyed")
	imported.Imported = true
	h.on(contract.ActivityGetKeyState, imported, nil)
	h.mockShred()

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

	cert := h.shredResult().Certificate
	require.True(t, cert.Key.Imported)
	require.Contains(t, cert.Statement, "imported root key "+rootKeyID)
}
