package node

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/node/fscrypt"
)

func TestInstallKey_WritesSealedSlotAndReportsPending(t *testing.T) {
	h := newHarness(t)
	version := h.keyVersion()
	rep := h.mustInstall("orders-db-1")

	require.Equal(t, contract.KeyPending, rep.State, "the key is installed, the server comes next")
	require.Contains(t, rep.Detail, "server not made yet")
	require.Equal(t, testInstance, rep.InstanceID)
	require.Equal(t, "orders-db-1", rep.NodeID)
	require.Equal(t, testHost, rep.Host)
	require.Equal(t, h.rootKey, rep.RootKeyID)
	require.Equal(t, version, rep.KeyVersionID)
	require.False(t, rep.ReportedAt.IsZero())
	require.False(t, rep.ServerUp)
	require.Empty(t, rep.Role)
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
	require.Equal(t, int64(1), h.stats(emulator.OpWrap))
}

func TestInstallKey_EncryptsDataDirectory(t *testing.T) {
	h := newHarness(t)
	n := nodeRef{InstanceID: testInstance, NodeID: "orders-db-1"}
	rep := h.mustInstall(n.NodeID)

	require.Equal(t, contract.KeyPending, rep.State)
	require.Equal(t, fscrypt.Protection, rep.Storage)
	require.Equal(t, "present", rep.StorageKey)
	require.Equal(t, storageKeyID(t, h.dekBytes(n.NodeID), n), rep.StorageKeyID,
		"the fscrypt key is derived from the node's DEK")
	d := h.agent.dirsOf(n)
	p, err := fscrypt.GetPolicy(d.data)
	require.NoError(t, err)
	require.Equal(t, fscrypt.Policy{Version: 2, Contents: fscrypt.ModeAES256XTS, Filenames: fscrypt.ModeAES256CTS,
		Flags: fscrypt.FlagsPad32, Key: p.Key}, p)
	require.Equal(t, rep.StorageKeyID, p.Key.String(), "the data directory is encrypted under the reported key")
	require.Equal(t, fscrypt.StatusPresent, h.keyStatus(rep.StorageKeyID), "unlocked for the server to come")
	_, err = fscrypt.GetPolicy(d.root)
	require.ErrorIs(t, err, fscrypt.ErrNotEncrypted, "node.json stays readable: it holds nothing secret")
}

func TestInstallKey_AgainIsIdempotent(t *testing.T) {
	h := newHarness(t)
	first := h.mustInstall("orders-db-1")
	slotBefore := h.slotFile("orders-db-1")

	second := h.mustInstall("orders-db-1")
	require.Equal(t, first.KeyCheckValue, second.KeyCheckValue)
	require.Equal(t, first.KeyVersionID, second.KeyVersionID)
	require.Equal(t, first.StorageKeyID, second.StorageKeyID)
	require.Equal(t, int64(1), h.stats(emulator.OpWrap), "no second wrap")
	require.Equal(t, int64(0), h.stats(emulator.OpUnwrap), "the DEK was in memory")
	require.Equal(t, slotBefore, h.slotFile("orders-db-1"), "slot untouched")

	h.restart() // a retry served by a restarted agent unwraps, never wraps again
	third := h.mustInstall("orders-db-1")
	require.Equal(t, first.KeyCheckValue, third.KeyCheckValue)
	require.Equal(t, first.StorageKeyID, third.StorageKeyID, "same storage key: the same data directory")
	require.Equal(t, contract.KeyPending, third.State)
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

func TestInstallKey_WithoutAuthorizationPolicyLeavesNothing(t *testing.T) {
	h := newHarness(t)
	h.tap = &dekTap{}
	h.restart()
	policies := h.emu.PolicyClient(t)
	_, err := policies.DeletePolicy(policies.NewDeletePolicyOptions(h.policyID))
	require.NoError(t, err)

	_, err = h.install("orders-db-1")
	require.Equal(t, contract.ErrTypeServiceNotAuthorized, contract.ErrorType(err))
	require.ErrorContains(t, err, "authorization policy")
	h.requireNothingOf("orders-db-1")
}

func TestInstallKey_DisabledKeyIsSuspendedAndLeavesNothing(t *testing.T) {
	h := newHarness(t)
	h.tap = &dekTap{}
	h.restart()
	require.NoError(t, h.operator.DisableKey(h.ctx, h.rootKey))
	_, err := h.install("orders-db-1")
	require.Equal(t, contract.ErrTypeKeySuspended, contract.ErrorType(err))
	h.requireNothingOf("orders-db-1")
}

// requireNothingOf fails unless node of testInstance has no slot, no DEK
// in memory and no directories, the storage root holds nothing else, and,
// with a tap, no fscrypt key of a DEK the agent wrapped is in the kernel.
func (h *harness) requireNothingOf(node string) {
	h.t.Helper()
	n := nodeRef{InstanceID: testInstance, NodeID: node}
	_, err := os.Stat(slotPath(h.dataDir, testInstance, node))
	require.ErrorIs(h.t, err, os.ErrNotExist, "a failed install leaves no slot")
	require.Nil(h.t, h.liveDEK(node))
	entries, err := os.ReadDir(h.vol.Dir)
	require.NoError(h.t, err)
	for _, e := range entries {
		require.Contains(h.t, []string{"lost+found", "run"}, e.Name(), "a failed install leaves no directory")
	}
	require.True(h.t, isNotExist(h.agent.dirsOf(n).socket))
	if h.tap == nil {
		return
	}
	require.NotEmpty(h.t, h.tap.wrapped(), "the agent tried to wrap a DEK")
	for _, dek := range h.tap.wrapped() {
		require.Equal(h.t, fscrypt.StatusAbsent, h.keyStatus(storageKeyID(h.t, dek, n)),
			"no fscrypt key of the node is left in the kernel")
	}
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
