package node

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

func TestInstallKey_WritesSealedSlotAndReportsActive(t *testing.T) {
	h := newHarness(t)
	version := h.keyVersion()
	rep := h.mustInstall("orders-db-1")

	require.Equal(t, contract.KeyActive, rep.State)
	require.Equal(t, testInstance, rep.InstanceID)
	require.Equal(t, "orders-db-1", rep.NodeID)
	require.Equal(t, testHost, rep.Host)
	require.Equal(t, h.rootKey, rep.RootKeyID)
	require.Equal(t, version, rep.KeyVersionID)
	require.False(t, rep.ReportedAt.IsZero())
	kcv, err := h.liveDEK("orders-db-1").dek.CheckValue()
	require.NoError(t, err)
	require.Equal(t, kcv, rep.KeyCheckValue)

	dek := h.dekBytes("orders-db-1")
	requireAbsent(t, h.slotFile("orders-db-1"), dek, "the key slot file")
	slot := h.loadSlot("orders-db-1")
	requireAbsent(t, slot.WrappedDEK, dek, "the wrapped DEK")
	reportJSON, err := json.Marshal(rep)
	require.NoError(t, err)
	requireAbsent(t, reportJSON, dek, "the report")
	require.Equal(t, version, slot.KeyVersionID)
	require.Equal(t, contract.NodeAAD(testInstance, "orders-db-1"), slot.AAD)

	latest := h.latest("orders-db-1")
	require.Equal(t, "active", string(latest.State))
	require.Equal(t, kcv, latest.CheckValue)
	require.Equal(t, version, latest.KeyVersionID)
	require.Equal(t, int64(1), h.stats(emulator.OpWrap))
}

func TestInstallKey_AgainIsIdempotent(t *testing.T) {
	h := newHarness(t)
	first := h.mustInstall("orders-db-1")
	slotBefore := h.slotFile("orders-db-1")

	second := h.mustInstall("orders-db-1")
	require.Equal(t, first.KeyCheckValue, second.KeyCheckValue)
	require.Equal(t, first.KeyVersionID, second.KeyVersionID)
	require.Equal(t, int64(1), h.stats(emulator.OpWrap), "no second wrap")
	require.Equal(t, int64(0), h.stats(emulator.OpUnwrap), "the DEK was in memory")
	require.Equal(t, slotBefore, h.slotFile("orders-db-1"), "slot untouched")

	h.restart() // a retry served by a restarted agent unwraps, never wraps again
	third := h.mustInstall("orders-db-1")
	require.Equal(t, first.KeyCheckValue, third.KeyCheckValue)
	require.Equal(t, int64(1), h.stats(emulator.OpWrap))
	require.Equal(t, int64(1), h.stats(emulator.OpUnwrap))
}

func TestInstallKey_SlotUnderOtherRootKeyConflicts(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	h.rootKey = h.createRootKey("another-root")
	_, err := h.install("orders-db-1")
	require.Equal(t, contract.ErrTypeKeySlotConflict, contract.ErrorType(err))
	require.ErrorContains(t, err, "node orders-db-1 of instance orders-db")
	require.NotNil(t, h.liveDEK("orders-db-1"), "the existing DEK stays")
}

func TestInstallKey_WithoutAuthorizationPolicyIsServiceNotAuthorized(t *testing.T) {
	h := newHarness(t)
	policies := h.emu.PolicyClient(t)
	_, err := policies.DeletePolicy(policies.NewDeletePolicyOptions(h.policyID))
	require.NoError(t, err)

	_, err = h.install("orders-db-1")
	require.Equal(t, contract.ErrTypeServiceNotAuthorized, contract.ErrorType(err))
	require.ErrorContains(t, err, "authorization policy")
	_, statErr := os.Stat(slotPath(h.dataDir, testInstance, "orders-db-1"))
	require.ErrorIs(t, statErr, os.ErrNotExist, "a failed install leaves no slot")
	require.Nil(t, h.liveDEK("orders-db-1"))
	latest := h.latest("orders-db-1")
	require.Equal(t, "error", string(latest.State))
	require.Contains(t, latest.Detail, "authorization policy")
}

func TestInstallKey_DisabledKeyIsSuspended(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.operator.DisableKey(h.ctx, h.rootKey))
	_, err := h.install("orders-db-1")
	require.Equal(t, contract.ErrTypeKeySuspended, contract.ErrorType(err))
	require.Equal(t, "suspended", string(h.latest("orders-db-1").State))
	_, statErr := os.Stat(slotPath(h.dataDir, testInstance, "orders-db-1"))
	require.ErrorIs(t, statErr, os.ErrNotExist)
}

func TestInstallKey_UnknownNodeRemovesItsSlot(t *testing.T) {
	h := newHarness(t)
	_, err := h.execute(contract.ActivityInstallKey, contract.InstallKeyInput{InstanceID: testInstance,
		NodeID: "orders-db-9", RootKeyID: h.rootKey, AAD: contract.NodeAAD(testInstance, "orders-db-9")})
	require.Equal(t, contract.ErrTypeInstanceNotFound, contract.ErrorType(err))
	_, statErr := os.Stat(slotPath(h.dataDir, testInstance, "orders-db-9"))
	require.ErrorIs(t, statErr, os.ErrNotExist, "the slot written before the failed report is removed")
	require.Nil(t, h.liveDEK("orders-db-9"))
}

func TestInstallKey_InvalidInputIsRefused(t *testing.T) {
	h := newHarness(t)
	for name, in := range map[string]contract.InstallKeyInput{
		"path in node id": {InstanceID: testInstance, NodeID: "../x", RootKeyID: h.rootKey, AAD: []string{"a"}},
		"no root key":     {InstanceID: testInstance, NodeID: "orders-db-1", AAD: []string{"a"}},
		"no aad":          {InstanceID: testInstance, NodeID: "orders-db-1", RootKeyID: h.rootKey},
	} {
		_, err := h.execute(contract.ActivityInstallKey, in)
		require.Equal(t, contract.ErrTypeInvalidInput, contract.ErrorType(err), name)
	}
	require.Equal(t, int64(0), h.stats(emulator.OpWrap))
}
