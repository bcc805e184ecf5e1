package node

import (
	"context"
	"testing"
	"time"

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

func TestStart_RegistersHostAndUnwrapsEverySlot(t *testing.T) {
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
		require.Equal(t, contract.KeyActive, reports[n].State, n)
		require.Equal(t, installed[n].KeyCheckValue, reports[n].KeyCheckValue, n)
		require.Equal(t, installed[n].KeyVersionID, reports[n].KeyVersionID, n)
		require.NotNil(t, h.liveDEK(n), n)
		require.Equal(t, "active", string(h.latest(n).State))
	}
	require.Equal(t, dek, h.dekBytes("orders-db-1"))
	require.Equal(t, int64(len(testNodes)), h.stats(emulator.OpUnwrap))
	require.Equal(t, int64(0), h.stats(emulator.OpWrap))
	hosts, err := h.cat.ListHosts(h.ctx)
	require.NoError(t, err)
	require.Len(t, hosts, 1)
	require.Equal(t, testHost, hosts[0].Name)
	require.Equal(t, contract.NodeTaskQueue(testHost), hosts[0].TaskQueue)
}

func TestStart_DisabledKeyReportsSuspendedUntilEnabled(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	require.NoError(t, h.operator.DisableKey(h.ctx, h.rootKey))

	rep := h.startReports()["orders-db-1"]
	require.Equal(t, contract.KeySuspended, rep.State)
	require.Contains(t, rep.Detail, "is disabled")
	require.Nil(t, h.liveDEK("orders-db-1"))
	require.Equal(t, "suspended", string(h.latest("orders-db-1").State))

	require.NoError(t, h.operator.EnableKey(h.ctx, h.rootKey))
	require.Equal(t, contract.KeyActive, h.status("orders-db-1").State)
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
	require.Equal(t, contract.KeyActive, after.State)
	require.Equal(t, target, after.KeyVersionID)
	require.Equal(t, contract.KeyActive, h.status("orders-db-1").State)
}

func TestStart_DestroyedKeyReportsDestroyed(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	_, err := h.operator.DeleteKey(h.ctx, h.rootKey, 0)
	require.NoError(t, err)

	rep := h.startReports()["orders-db-1"]
	require.Equal(t, contract.KeyDestroyed, rep.State)
	require.Nil(t, h.liveDEK("orders-db-1"))
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
	require.Equal(t, contract.KeyActive, reports["orders-db-2"].State, "other nodes are unaffected")
}

func TestKeepRegistered_RefreshesLastSeen(t *testing.T) {
	h := newHarness(t)
	_, err := h.agent.Start(h.ctx)
	require.NoError(t, err)
	hosts, err := h.cat.ListHosts(h.ctx)
	require.NoError(t, err)
	first := hosts[0].LastSeenAt

	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { h.agent.KeepRegistered(ctx, 20*time.Millisecond); close(done) }()
	require.Eventually(t, func() bool {
		hosts, err := h.cat.ListHosts(h.ctx)
		return err == nil && hosts[0].LastSeenAt.After(first)
	}, 5*time.Second, 20*time.Millisecond)
	cancel()
	<-done
}
