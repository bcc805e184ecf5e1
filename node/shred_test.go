package node

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/node/fscrypt"
)

func (h *harness) shred(node string) (contract.NodeReport, error) {
	return h.execute(contract.ActivityShredKeySlot, contract.ShredKeySlotInput{InstanceID: testInstance, NodeID: node})
}

func TestShredKeySlot_ZeroizesDEKRemovesSlotAndReportsDestroyed(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	h.mustInstall("orders-db-2")
	dek := h.liveDEK("orders-db-1").dek
	path := slotPath(h.dataDir, testInstance, "orders-db-1")
	witness := filepath.Join(h.dataDir, "witness") // a second name shows what shredding left in the inode
	require.NoError(t, os.Link(path, witness))

	rep, err := h.shred("orders-db-1")
	require.NoError(t, err)
	require.True(t, dek.Destroyed())
	h.requireNodeGone(nodeRef{InstanceID: testInstance, NodeID: "orders-db-1"}, installed.StorageKeyID)
	left, err := os.ReadFile(witness)
	require.NoError(t, err)
	require.Equal(t, make([]byte, len(left)), left, "slot bytes overwritten with zeros")
	require.Equal(t, contract.KeyDestroyed, rep.State)
	require.Equal(t, installed.KeyCheckValue, rep.KeyCheckValue, "says which key was destroyed")
	require.Equal(t, installed.KeyVersionID, rep.KeyVersionID)
	require.Contains(t, rep.Detail, "crypto-shred")
	require.Equal(t, "removed", rep.StorageKey)
	require.Equal(t, installed.StorageKeyID, rep.StorageKeyID)
	require.NotNil(t, h.liveDEK("orders-db-2"), "other nodes are unaffected")
}

func TestShredKeySlot_AgainReportsDestroyedAgain(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	_, err := h.shred("orders-db-1")
	require.NoError(t, err)

	rep, err := h.shred("orders-db-1")
	require.NoError(t, err)
	require.Equal(t, contract.KeyDestroyed, rep.State)
	require.Equal(t, installed.KeyCheckValue, rep.KeyCheckValue)
	require.Contains(t, rep.Detail, "no node files")

	h.restart() // a new agent process remembers nothing, and still reports
	rep, err = h.shred("orders-db-1")
	require.NoError(t, err)
	require.Equal(t, contract.KeyDestroyed, rep.State)
	require.Empty(t, rep.RootKeyID, "unknown to the agent: the workflow records it under the instance's root key")
}

func TestShredKeySlot_CorruptSlotIsShredded(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	writeSlotFile(t, h.dataDir, "orders-db-1", []byte("garbage"))
	rep, err := h.shred("orders-db-1")
	require.NoError(t, err)
	require.Equal(t, contract.KeyDestroyed, rep.State)
	h.requireNodeGone(nodeRef{InstanceID: testInstance, NodeID: "orders-db-1"}, installed.StorageKeyID)
}

func TestShredKeySlot_AfterFullProvisionStopsServerRemovesKeyAndFiles(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, serverVolumeMiB)
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	d := h.agent.dirsOf(p.ref())

	rep, err := h.execute(contract.ActivityShredKeySlot, contract.ShredKeySlotInput{InstanceID: p.instance, NodeID: p.node})
	require.NoError(t, err)
	h.requireNodeGone(p.ref(), p.report.StorageKeyID)
	require.Equal(t, contract.KeyDestroyed, rep.State)
	require.Equal(t, p.report.KeyCheckValue, rep.KeyCheckValue)
	require.Equal(t, fscrypt.Protection, rep.Storage)
	require.Equal(t, p.report.StorageKeyID, rep.StorageKeyID)
	require.Equal(t, "removed", rep.StorageKey, "the report names the key's removal")
	for _, says := range []string{"server stopped", "fscrypt key " + p.report.StorageKeyID + " removed",
		"DEK zeroized", "deleted " + d.root + " (ciphertext)", "key slot overwritten and removed"} {
		require.Contains(t, rep.Detail, says)
	}
	require.False(t, rep.ServerUp)

	again, err := h.execute(contract.ActivityShredKeySlot, contract.ShredKeySlotInput{InstanceID: p.instance, NodeID: p.node})
	require.NoError(t, err, "idempotent")
	require.Equal(t, contract.KeyDestroyed, again.State)
	require.Equal(t, p.report.KeyCheckValue, again.KeyCheckValue, "under the key of the slot it shredded")
	require.Contains(t, again.Detail, "no server running")
	h.requireNodeGone(p.ref(), p.report.StorageKeyID)
}
