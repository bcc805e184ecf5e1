package node

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
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
	require.Nil(t, h.liveDEK("orders-db-1"))
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)
	left, err := os.ReadFile(witness)
	require.NoError(t, err)
	require.Equal(t, make([]byte, len(left)), left, "slot bytes overwritten with zeros")
	require.Equal(t, contract.KeyDestroyed, rep.State)
	require.Equal(t, installed.KeyCheckValue, rep.KeyCheckValue, "says which key was destroyed")
	require.Equal(t, installed.KeyVersionID, rep.KeyVersionID)
	require.Contains(t, rep.Detail, "crypto-shred")
	require.Equal(t, "destroyed", string(h.latest("orders-db-1").State), "recorded in the catalog")
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
	history, err := h.cat.ReportHistory(h.ctx, testInstance, "orders-db-1")
	require.NoError(t, err)
	require.Equal(t, "destroyed", string(history[len(history)-1].State))

	h.restart() // a new agent process remembers nothing, and still reports
	rep, err = h.shred("orders-db-1")
	require.NoError(t, err)
	require.Equal(t, contract.KeyDestroyed, rep.State)
	require.Equal(t, h.rootKey, rep.RootKeyID, "the instance's root key, from the catalog")
}

func TestShredKeySlot_CorruptSlotIsShredded(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	writeSlotFile(t, h.dataDir, "orders-db-1", []byte("garbage"))
	rep, err := h.shred("orders-db-1")
	require.NoError(t, err)
	require.Equal(t, contract.KeyDestroyed, rep.State)
	_, err = os.Stat(slotPath(h.dataDir, testInstance, "orders-db-1"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestShredKeySlot_CatalogRefusingTheReportFails(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	dek := h.liveDEK("orders-db-1").dek
	require.NoError(t, h.cat.DeleteInstance(h.ctx, testInstance))

	_, err := h.shred("orders-db-1")
	requireType(t, err, contract.ErrTypeInstanceNotFound, "the catalog has no such node")
	require.True(t, dek.Destroyed(), "the key is destroyed all the same")
	_, err = os.Stat(slotPath(h.dataDir, testInstance, "orders-db-1"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
