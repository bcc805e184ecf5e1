package node

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

func TestRewrapKey_MovesSlotToNewVersionKeepingDEK(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	dekBefore := h.dekBytes("orders-db-1")
	handle := h.liveDEK("orders-db-1").dek
	target := h.rotate()

	rep, err := h.rewrap("orders-db-1", target)
	require.NoError(t, err)
	require.Same(t, handle, h.liveDEK("orders-db-1").dek, "holders of the DEK are not disturbed")
	require.False(t, handle.Destroyed())
	require.Equal(t, contract.KeyPending, rep.State, "rewrapped; the node has no server yet")
	require.Equal(t, target, rep.KeyVersionID)
	require.Equal(t, installed.KeyCheckValue, rep.KeyCheckValue, "same DEK")
	require.Equal(t, installed.StorageKeyID, rep.StorageKeyID, "same storage key")
	require.Equal(t, dekBefore, h.dekBytes("orders-db-1"))
	slot := h.loadSlot("orders-db-1")
	require.Equal(t, target, slot.KeyVersionID)
	require.Equal(t, installed.KeyCheckValue, slot.CheckValue)
	requireAbsent(t, h.slotFile("orders-db-1"), dekBefore, "the rewrapped key slot file")

	// The new slot unwraps on its own, under the new version.
	h.restart()
	after := h.status("orders-db-1")
	require.Equal(t, contract.KeyPending, after.State, after.Detail)
	require.Equal(t, target, after.KeyVersionID)
	require.Equal(t, dekBefore, h.dekBytes("orders-db-1"))
}

func TestRewrapKey_AgainIsNoOp(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	target := h.rotate()
	_, err := h.rewrap("orders-db-1", target)
	require.NoError(t, err)
	slotBefore := h.slotFile("orders-db-1")
	unwraps := h.stats(emulator.OpUnwrap)

	rep, err := h.rewrap("orders-db-1", target)
	require.NoError(t, err)
	require.Equal(t, contract.KeyPending, rep.State)
	require.Equal(t, target, rep.KeyVersionID)
	require.Equal(t, unwraps, h.stats(emulator.OpUnwrap), "no Key Protect call")
	require.Equal(t, slotBefore, h.slotFile("orders-db-1"), "slot not rewritten")
}

func TestRewrapKey_WithoutNewVersionReportsAsIs(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	rep, err := h.rewrap("orders-db-1", "some-version-key-protect-does-not-have")
	require.NoError(t, err)
	require.Equal(t, installed.KeyVersionID, rep.KeyVersionID, "the workflow judges the mismatch")
}

func TestRewrapKey_DisabledKeyFlushesDEKLocksStorageAndKeepsSlot(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	dek := h.liveDEK("orders-db-1").dek
	target := h.rotate()
	slotBefore := h.slotFile("orders-db-1")
	require.NoError(t, h.operator.DisableKey(h.ctx, h.rootKey))

	_, err := h.rewrap("orders-db-1", target)
	require.Equal(t, contract.ErrTypeKeySuspended, contract.ErrorType(err))
	require.ErrorContains(t, err, "enable it")
	require.True(t, dek.Destroyed(), "a disabled root key flushes the DEK")
	require.Nil(t, h.liveDEK("orders-db-1"))
	require.Equal(t, slotBefore, h.slotFile("orders-db-1"), "the old slot survives")
	require.Equal(t, "absent", h.keyStatus(installed.StorageKeyID).String(), "a revoked key locks the storage")
	require.Equal(t, contract.KeySuspended, h.status("orders-db-1").State)
}

func TestRewrapKey_MissingSlotFailsKeySlotMissing(t *testing.T) {
	h := newHarness(t)
	_, err := h.rewrap("orders-db-1", "v2")
	require.Equal(t, contract.ErrTypeKeySlotMissing, contract.ErrorType(err))
	require.ErrorContains(t, err, "host host-a holds no key slot")
}

func TestRewrapKey_TamperedSlotFailsKeySlotInvalid(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	raw := h.slotFile("orders-db-1")
	raw[len(raw)-1] ^= 0x80
	require.NoError(t, os.WriteFile(slotPath(h.dataDir, testInstance, "orders-db-1"), raw, 0o600))

	_, err := h.rewrap("orders-db-1", h.rotate())
	require.Equal(t, contract.ErrTypeKeySlotInvalid, contract.ErrorType(err))
	require.ErrorContains(t, err, "key slot corrupt")
	require.ErrorContains(t, err, "restore the file from backup")
}

func TestRewrapKey_WrongAADIsRefused(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	target := h.rotate()

	// The workflow asks with another node's AAD: the slot does not match.
	_, err := h.execute(contract.ActivityRewrapKey, contract.RewrapKeyInput{InstanceID: testInstance,
		NodeID: "orders-db-1", RootKeyID: h.rootKey, AAD: contract.NodeAAD(testInstance, "orders-db-2"),
		TargetVersionID: target})
	require.Equal(t, contract.ErrTypeKeySlotConflict, contract.ErrorType(err))

	// A slot whose recorded AAD is not what it was wrapped with: Key Protect refuses it.
	slot := h.loadSlot("orders-db-1")
	slot.AAD = contract.NodeAAD(testInstance, "orders-db-2")
	require.NoError(t, h.agent.slots.Save(slot))
	_, err = h.execute(contract.ActivityRewrapKey, contract.RewrapKeyInput{InstanceID: testInstance,
		NodeID: "orders-db-1", RootKeyID: h.rootKey, AAD: slot.AAD, TargetVersionID: target})
	require.Equal(t, contract.ErrTypeKeySlotInvalid, contract.ErrorType(err))
	require.ErrorContains(t, err, "Key Protect refused the key slot's wrapped DEK")
	require.NotNil(t, h.liveDEK("orders-db-1"), "a refused slot is no revocation: the DEK stays")
}
