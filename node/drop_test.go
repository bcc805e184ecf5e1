package node

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func writeSlotFile(t *testing.T, dataDir, node string, raw []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(slotPath(dataDir, testInstance, node), raw, 0o600))
}

func TestDropKeySlot_RemovesSlotKeyAndDirectoriesAndZeroizesDEK(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	other := h.mustInstall("orders-db-2")
	dek := h.liveDEK("orders-db-1").dek

	require.NoError(t, h.drop("orders-db-1"))
	require.True(t, dek.Destroyed())
	h.requireNodeGone(nodeRef{InstanceID: testInstance, NodeID: "orders-db-1"}, installed.StorageKeyID)
	rep := h.status("orders-db-1")
	require.Equal(t, contract.KeyDestroyed, rep.State)
	require.Equal(t, installed.KeyCheckValue, rep.KeyCheckValue, "says which key was destroyed")
	require.NotNil(t, h.liveDEK("orders-db-2"), "other nodes are unaffected")
	require.Equal(t, "present", h.keyStatus(other.StorageKeyID).String())

	require.NoError(t, h.drop("orders-db-1"), "idempotent")
	require.Equal(t, contract.KeyDestroyed, h.status("orders-db-1").State)
}

func TestDropKeySlot_WithoutSlotIsSuccess(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.drop("orders-db-1"))
	require.NotContains(t, string(h.logs.Bytes()), "node dropped", "nothing dropped, nothing logged")
	require.Equal(t, contract.KeyPending, h.status("orders-db-2").State)
	h.requireNothingOf("orders-db-1")
}

func TestDropKeySlot_CorruptSlotIsRemovedWithTheNodesFiles(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	writeSlotFile(t, h.dataDir, "orders-db-1", []byte("garbage"))
	require.NoError(t, h.drop("orders-db-1"))
	h.requireNodeGone(nodeRef{InstanceID: testInstance, NodeID: "orders-db-1"}, installed.StorageKeyID)
}

func TestDropKeySlot_AfterFullProvisionLeavesNothing(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, serverVolumeMiB)
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	require.True(t, p.report.ServerUp)
	require.NotEmpty(t, procsUnder(h.agent.dirsOf(p.ref()).pgdata), "the server runs")

	require.NoError(t, h.dropFor(p.instance, p.node))
	h.requireNodeGone(p.ref(), p.report.StorageKeyID)
	require.True(t, isNotExist(filepath.Join(h.vol.Dir, testInstance)), "the instance's directory, once empty, too")
	require.Contains(t, string(h.logs.Bytes()), "server_stopped=true")

	require.NoError(t, h.dropFor(p.instance, p.node), "idempotent")
}
