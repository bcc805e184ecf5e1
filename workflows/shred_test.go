package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

var deletedAt = t0.Add(-30 * time.Second) // Key Protect's clock, not the workflow's

func shredInput() contract.ShredInput {
	return contract.ShredInput{InstanceID: instanceID, RequestedBy: "alice"}
}

func destroyedReport(nodeID string) contract.NodeReport {
	return contract.NodeReport{InstanceID: instanceID, NodeID: nodeID, Host: hostOf(nodeID), RootKeyID: rootKeyID,
		State: contract.KeyDestroyed, ReportedAt: t0}
}

func shredSlot(_ context.Context, in contract.ShredKeySlotInput) (contract.NodeReport, error) {
	return destroyedReport(in.NodeID), nil
}

func keyState(state int, name string) contract.RootKeyState {
	s := contract.RootKeyState{RootKeyID: rootKeyID, State: state, StateName: name, KeyVersionID: "v1"}
	if state == contract.KPStateDestroyed {
		s.DeletionDate, s.DeletedBy = deletedAt, "IBMid-alice"
	}
	return s
}

var probeProof = contract.ShredProof{Subject: "shred probe of instance orders-db (key version v1)", RootKeyID: rootKeyID,
	CiphertextSHA256: "ab12", HTTPStatus: 410, ReasonCode: "KEY_DELETED_ERR", Message: "Key has already been deleted", At: t0}

// mockShred mocks a crypto-shred of orders-db whose key Key Protect deletes.
func (h *harness) mockShred() {
	deleted := false
	h.on(contract.ActivityLoadInstance, activeInstance(), nil)
	h.on(contract.ActivityCheckShredGuards, contract.CheckShredGuardsResult{}, nil)
	h.on(contract.ActivityWrapProbe, contract.WrapProbeResult{Ciphertext: []byte("wrapped-probe"),
		AAD: []string{"byokflow-shred-probe:orders-db"}, KeyVersionID: "v1"}, nil)
	h.on(contract.ActivityMarkInstanceShredding, nil)
	h.on(contract.ActivityShredKeySlot, shredSlot)
	h.on(contract.ActivityDeregisterInstance, nil)
	h.on(contract.ActivityGetKeyState, func(context.Context, contract.GetKeyStateInput) (contract.RootKeyState, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if deleted {
			return keyState(contract.KPStateDestroyed, "Destroyed"), nil
		}
		return keyState(contract.KPStateActive, "Active"), nil
	})
	h.on(contract.ActivityDeleteRootKey, func(context.Context, contract.DeleteRootKeyInput) (contract.DeleteRootKeyResult, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		deleted = true
		return contract.DeleteRootKeyResult{DeletionDate: deletedAt, DeletedBy: "IBMid-alice"}, nil
	})
	h.on(contract.ActivityProveKeyDestroyed, probeProof, nil)
	h.on(contract.ActivityMarkBackupsUnrecoverable, contract.MarkBackupsUnrecoverableResult{}, nil)
	h.on(contract.ActivityWriteShredCertificate, func(_ context.Context, in contract.WriteShredCertificateInput) (
		contract.WriteShredCertificateResult, error) {
		return contract.WriteShredCertificateResult{Certificate: in.Certificate}, nil
	})
	h.on(contract.ActivityMarkInstanceShredded, nil)
}

var (
	shredSlots    = []string{contract.ActivityShredKeySlot, contract.ActivityShredKeySlot, contract.ActivityShredKeySlot}
	shredChecks   = []string{contract.ActivityLoadInstance, contract.ActivityCheckShredGuards}
	destroySteps  = concat([]string{contract.ActivityMarkInstanceShredding}, shredSlots, []string{contract.ActivityDeregisterInstance})
	keyDeletion   = []string{contract.ActivityGetKeyState, contract.ActivityDeleteRootKey, contract.ActivityProveKeyDestroyed, contract.ActivityMarkBackupsUnrecoverable, contract.ActivityGetKeyState}
	certification = []string{contract.ActivityWriteShredCertificate, contract.ActivityMarkInstanceShredded}
)

func (h *harness) shredResult() contract.ShredResult {
	h.t.Helper()
	require.NoError(h.t, h.env.GetWorkflowError())
	var res contract.ShredResult
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	return res
}

func TestShred_FullPathInOrder(t *testing.T) {
	h := newHarness(t)
	h.mockShred()
	got := h.recordSearchAttributes()

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

	res := h.shredResult()
	require.True(t, res.KeyDeleted)
	require.Equal(t, rootKeyID, res.RootKeyID)
	require.Equal(t, concat(shredChecks, []string{contract.ActivityWrapProbe}, destroySteps, keyDeletion, certification), h.calls())
	require.ElementsMatch(t, []string{"byokflow-node-host-a", "byokflow-node-host-b", "byokflow-node-host-a"},
		h.queues[contract.ActivityShredKeySlot])
	require.Equal(t, map[string]string{"ByokInstanceID": instanceID, "ByokRootKeyID": rootKeyID, "ByokOperation": "shred"}, got)
	require.ElementsMatch(t, []contract.NodeReport{destroyedReport("orders-db-1"), destroyedReport("orders-db-2"),
		destroyedReport("orders-db-3")}, h.recordedReports(), "the catalog learns every node's key is destroyed")
	h.env.AssertActivityCalled(t, contract.ActivityDeregisterInstance, mock.Anything,
		contract.DeregisterInstanceInput{RootKeyID: rootKeyID, InstanceCRN: instCRN, KPInstanceID: kpInstance})
	h.env.AssertActivityCalled(t, contract.ActivityProveKeyDestroyed, mock.Anything, contract.ProveKeyDestroyedInput{
		RootKeyID: rootKeyID, Subject: "shred probe of instance orders-db (key version v1)",
		Ciphertext: []byte("wrapped-probe"), AAD: []string{"byokflow-shred-probe:orders-db"}, KPInstanceID: kpInstance})
	require.Equal(t, "done", h.queryProgress().Step)
}

func TestShred_CertificateContent(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityMarkBackupsUnrecoverable, contract.MarkBackupsUnrecoverableResult{BackupIDs: []string{"b1"}}, nil)
	h.mockShred()

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

	cert := h.shredResult().Certificate
	proof := probeProof
	require.Equal(t, contract.ShredCertificate{Format: "byokflow-shred-certificate/v2", InstanceID: instanceID,
		InstanceCRN: instCRN, RootKeyID: rootKeyID, Scope: "instance and root key", KeyDeleted: true,
		Key: keyState(contract.KPStateDestroyed, "Destroyed"), Nodes: []contract.NodeReport{destroyedReport("orders-db-1"),
			destroyedReport("orders-db-2"), destroyedReport("orders-db-3")}, UnrecoverableBackups: []string{"b1"},
		Proof: &proof, RequestedBy: "alice", WorkflowID: "default-test-workflow-id", RunID: "default-test-run-id",
		StartedAt: t0, CompletedAt: t0,
		Statement: "The 3 nodes of instance orders-db stopped their servers, removed their fscrypt keys, zeroized " +
			"their data encryption keys and deleted their ciphertext; root key orders-root was deleted (Key Protect state Destroyed), and an unwrap of the shred " +
			"probe of instance orders-db (key version v1) under it then failed (HTTP 410 KEY_DELETED_ERR). " +
			"Backups b1 are unrecoverable."}, cert)
	h.env.AssertActivityCalled(t, contract.ActivityWriteShredCertificate, mock.Anything,
		contract.WriteShredCertificateInput{Certificate: cert})
}

func TestShred_ProofUnwrapsTheProbeNeverABackupDEK(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityCheckShredGuards, contract.CheckShredGuardsResult{RetainedBackups: []string{backupID}}, nil)
	h.mockShred()
	in := shredInput()
	in.IncludeBackups = true

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, in)

	h.shredResult()
	h.env.AssertActivityCalled(t, contract.ActivityCheckShredGuards, mock.Anything, contract.CheckShredGuardsInput{
		InstanceID: instanceID, RootKeyID: rootKeyID, InstanceCRN: instCRN, KPInstanceID: kpInstance, IncludeBackups: true})
	h.env.AssertActivityCalled(t, contract.ActivityProveKeyDestroyed, mock.Anything, contract.ProveKeyDestroyedInput{
		RootKeyID: rootKeyID, Subject: "shred probe of instance orders-db (key version v1)",
		Ciphertext: []byte("wrapped-probe"), AAD: []string{"byokflow-shred-probe:orders-db"}, KPInstanceID: kpInstance})
}

func TestShred_GuardsRefuseBeforeAnythingIsDestroyed(t *testing.T) {
	for _, errType := range []string{contract.ErrTypeKeyInUse, contract.ErrTypeBackupsRetained} {
		t.Run(errType, func(t *testing.T) {
			h := newHarness(t)
			h.on(contract.ActivityCheckShredGuards, contract.CheckShredGuardsResult{}, typedErr(errType))
			h.mockShred()

			h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

			require.Equal(t, errType, h.workflowErrType())
			require.Equal(t, shredChecks, h.calls(), "nothing destroyed, nothing marked")
		})
	}
}

func TestShred_KeepRootKeyDestroysOnlyNodeKeys(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityCheckShredGuards, contract.CheckShredGuardsResult{OtherInstances: []string{"billing-db"},
		RetainedBackups: []string{backupID}}, nil)
	h.mockShred()
	in := shredInput()
	in.KeepRootKey = true

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, in)

	res := h.shredResult()
	require.False(t, res.KeyDeleted)
	require.Equal(t, concat(shredChecks, destroySteps, []string{contract.ActivityGetKeyState}, certification), h.calls())
	cert := res.Certificate
	require.Equal(t, contract.ShredScopeNodeKeysOnly, cert.Scope)
	require.False(t, cert.KeyDeleted)
	require.Nil(t, cert.Proof)
	require.Equal(t, "Active", cert.Key.StateName)
	require.Equal(t, []string{backupID}, cert.RestorableBackups)
	require.Empty(t, cert.UnrecoverableBackups)
	require.Contains(t, cert.Statement, "root key orders-root was kept (Key Protect state Active), so only the node keys were destroyed")
	require.Contains(t, cert.Statement, "Backups "+backupID+" stay restorable under it.")
	h.env.AssertActivityCalled(t, contract.ActivityCheckShredGuards, mock.Anything, contract.CheckShredGuardsInput{
		InstanceID: instanceID, RootKeyID: rootKeyID, InstanceCRN: instCRN, KPInstanceID: kpInstance, KeepRootKey: true})
}

func TestShred_InstanceStatesItRefuses(t *testing.T) {
	for _, state := range []contract.InstanceState{contract.InstanceShredded, contract.InstancePending} {
		t.Run(string(state), func(t *testing.T) {
			h := newHarness(t)
			inst := activeInstance()
			inst.State = state
			h.on(contract.ActivityLoadInstance, inst, nil)
			h.mockShred()

			h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

			require.Equal(t, contract.ErrTypeInstanceNotActive, h.workflowErrType())
			require.Equal(t, []string{contract.ActivityLoadInstance}, h.calls())
		})
	}
}

// A crypto-shred that stopped half way left the instance shredding; a new
// run finishes it.
func TestShred_ReRunFinishesAShreddingInstance(t *testing.T) {
	h := newHarness(t)
	inst := activeInstance()
	inst.State = contract.InstanceShredding
	h.on(contract.ActivityLoadInstance, inst, nil)
	h.mockShred()

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

	require.True(t, h.shredResult().KeyDeleted)
}

func TestShred_NodeNotDestroyedStopsBeforeTheKey(t *testing.T) {
	h := newHarness(t)
	h.onNode(contract.ActivityShredKeySlot, "orders-db-2", report("orders-db-2", "host-b", "v1"), nil)
	h.mockShred()

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

	require.Equal(t, contract.ErrTypeNodeKeyMismatch, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), `node orders-db-2 (host host-b) reported "active", want "destroyed"`)
	require.ErrorContains(t, h.env.GetWorkflowError(), "run the crypto-shred again to finish it")
	for _, a := range []string{contract.ActivityDeregisterInstance, contract.ActivityDeleteRootKey, contract.ActivityWriteShredCertificate} {
		require.NotContains(t, h.calls(), a)
	}
}

func TestShred_UnprovenDeletionWritesNoCertificate(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityProveKeyDestroyed, contract.ShredProof{}, typedErr(contract.ErrTypeShredUnproven))
	h.mockShred()

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

	require.Equal(t, contract.ErrTypeShredUnproven, h.workflowErrType())
	require.NotContains(t, h.calls(), contract.ActivityWriteShredCertificate)
	require.NotContains(t, h.calls(), contract.ActivityMarkInstanceShredded)
}
