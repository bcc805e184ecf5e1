package node

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

// startReports restarts the agent, runs Start and returns its reports by node.
func (h *harness) startReports() map[string]contract.NodeReport {
	h.t.Helper()
	h.restart()
	reports, err := h.agent.Start(h.ctx)
	require.NoError(h.t, err)
	byNode := map[string]contract.NodeReport{}
	for _, r := range reports {
		byNode[r.NodeID] = r
	}
	return byNode
}

func TestStart_UnwrapsEverySlotAndUnlocksItsStorage(t *testing.T) {
	h := newHarness(t)
	installed := map[string]contract.NodeReport{}
	for _, n := range testNodes {
		installed[n] = h.mustInstall(n)
	}
	dek := h.dekBytes("orders-db-1")
	h.emu.Server.ResetStats()

	reports := h.startReports()
	require.Len(t, reports, len(testNodes))
	for _, n := range testNodes {
		require.Equal(t, contract.KeyPending, reports[n].State, "%s: key back, no server made yet", n)
		require.Equal(t, installed[n].KeyCheckValue, reports[n].KeyCheckValue, n)
		require.Equal(t, installed[n].KeyVersionID, reports[n].KeyVersionID, n)
		require.Equal(t, installed[n].StorageKeyID, reports[n].StorageKeyID, n)
		require.Equal(t, "present", reports[n].StorageKey, n)
		require.Equal(t, testHost, reports[n].Host, n)
		require.NotNil(t, h.liveDEK(n), n)
	}
	require.Equal(t, dek, h.dekBytes("orders-db-1"))
	require.Equal(t, int64(len(testNodes)), h.stats(emulator.OpUnwrap))
	require.Equal(t, int64(0), h.stats(emulator.OpWrap))
}

func TestStart_DisabledKeyReportsSuspendedUntilEnabled(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	require.NoError(t, h.operator.DisableKey(h.ctx, h.rootKey))

	rep := h.startReports()["orders-db-1"]
	require.Equal(t, contract.KeySuspended, rep.State)
	require.Contains(t, rep.Detail, "is disabled")
	require.Nil(t, h.liveDEK("orders-db-1"))
	require.Equal(t, "absent", rep.StorageKey, "a revoked key locks the storage")
	require.Equal(t, "absent", h.keyStatus(installed.StorageKeyID).String())

	require.NoError(t, h.operator.EnableKey(h.ctx, h.rootKey))
	rep = h.status("orders-db-1")
	require.Equal(t, contract.KeyPending, rep.State, rep.Detail)
	require.Equal(t, "present", rep.StorageKey, "unlocked again")
	require.NotNil(t, h.liveDEK("orders-db-1"))
}

func TestStart_RotatedKeyReportsRewrapRequiredAndKeepsSlot(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	slotBefore := h.slotFile("orders-db-1")
	target := h.rotate()

	rep := h.startReports()["orders-db-1"]
	require.Equal(t, contract.KeyRewrapRequired, rep.State)
	require.Equal(t, installed.KeyVersionID, rep.KeyVersionID, "the slot's version")
	require.Contains(t, rep.Detail, "--rewrap-only")
	require.NotNil(t, h.liveDEK("orders-db-1"), "the DEK is usable meanwhile")
	require.Equal(t, slotBefore, h.slotFile("orders-db-1"), "only a workflow rewrites slots")

	after, err := h.rewrap("orders-db-1", target)
	require.NoError(t, err)
	require.Equal(t, contract.KeyPending, after.State, "rewrapped; no server yet")
	require.Equal(t, target, after.KeyVersionID)
	require.Equal(t, contract.KeyPending, h.status("orders-db-1").State)
}

func TestStart_DestroyedKeyReportsDestroyed(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	_, err := h.operator.DeleteKey(h.ctx, h.rootKey, 0)
	require.NoError(t, err)

	rep := h.startReports()["orders-db-1"]
	require.Equal(t, contract.KeyDestroyed, rep.State)
	require.Nil(t, h.liveDEK("orders-db-1"))
	require.Equal(t, "absent", h.keyStatus(installed.StorageKeyID).String())
}

func TestStart_CorruptSlotReportsError(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	h.mustInstall("orders-db-2")
	raw := h.slotFile("orders-db-1")
	raw[20] ^= 1
	writeSlotFile(t, h.dataDir, "orders-db-1", raw)

	reports := h.startReports()
	require.Equal(t, contract.KeyError, reports["orders-db-1"].State)
	require.Contains(t, reports["orders-db-1"].Detail, "key slot corrupt")
	require.Equal(t, contract.KeyPending, reports["orders-db-2"].State, "other nodes are unaffected")
	require.NotNil(t, h.liveDEK("orders-db-2"))
}
