package node

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// otherKP is a second Key Protect instance of the emulator's account.
const otherKP = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"

// otherKPKey adds otherKP (service authorized) and creates a root key
// there; it returns the key and its version.
func (h *harness) otherKPKey(name string) (string, string) {
	h.t.Helper()
	h.emu.AddKPInstance(h.t, otherKP)
	h.emu.AuthorizeServiceFor(h.t, otherKP)
	key, err := h.emu.KPClient(h.t, h.emu.Dev.OperatorAPIKey, otherKP).CreateRootKey(h.ctx, name, nil)
	require.NoError(h.t, err)
	return key.ID, key.KeyVersion.ID
}

func TestInstallKey_OtherKPInstanceSurvivesARestart(t *testing.T) {
	h := newHarness(t)
	key, version := h.otherKPKey("elsewhere-root")
	const node = "orders-db-1"
	installed, err := h.execute(contract.ActivityInstallKey, contract.InstallKeyInput{InstanceID: testInstance,
		NodeID: node, RootKeyID: key, AAD: contract.NodeAAD(testInstance, node), ExpectedVersionID: version,
		KPInstanceID: otherKP})
	require.NoError(t, err)
	require.Equal(t, contract.KeyPending, installed.State)
	require.Equal(t, version, installed.KeyVersionID)
	require.Equal(t, otherKP, h.loadSlot(node).KPInstanceID, "the slot records its Key Protect instance")

	reports := h.startReports()

	require.Equal(t, contract.KeyPending, reports[node].State, reports[node].Detail)
	require.Equal(t, installed.KeyCheckValue, reports[node].KeyCheckValue)
	require.EqualValues(t, 2, h.builds.Load(), "each agent built the wrapper of the slot's instance once")
}

func TestRewrapKey_OtherKPInstanceRewrapsInTheSlotsInstance(t *testing.T) {
	h := newHarness(t)
	key, version := h.otherKPKey("elsewhere-root")
	const node = "orders-db-1"
	aad := contract.NodeAAD(testInstance, node)
	_, err := h.execute(contract.ActivityInstallKey, contract.InstallKeyInput{InstanceID: testInstance,
		NodeID: node, RootKeyID: key, AAD: aad, ExpectedVersionID: version, KPInstanceID: otherKP})
	require.NoError(t, err)
	ops := h.emu.KPClient(t, h.emu.Dev.OperatorAPIKey, otherKP)
	require.NoError(t, ops.Rotate(h.ctx, key, ""))
	rotated, err := ops.GetKeyMetadata(h.ctx, key)
	require.NoError(t, err)
	h.restart()

	rep, err := h.execute(contract.ActivityRewrapKey, contract.RewrapKeyInput{InstanceID: testInstance,
		NodeID: node, RootKeyID: key, AAD: aad, TargetVersionID: rotated.KeyVersion.ID, KPInstanceID: otherKP})

	require.NoError(t, err)
	require.Equal(t, contract.KeyPending, rep.State)
	require.Equal(t, rotated.KeyVersion.ID, h.loadSlot(node).KeyVersionID)
	require.Equal(t, otherKP, h.loadSlot(node).KPInstanceID)
}

func TestInstallKey_DefaultKPInstanceSlotNamesNone(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")

	require.Empty(t, h.loadSlot("orders-db-1").KPInstanceID)
	require.NotContains(t, string(h.slotFile("orders-db-1")), "kp_instance_id")
	require.Zero(t, h.builds.Load())
}
