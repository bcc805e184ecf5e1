package node

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func writeSlotFile(t *testing.T, dataDir, node string, raw []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(slotPath(dataDir, testInstance, node), raw, 0o600))
}

func TestDropKeySlot_RemovesSlotAndZeroizesDEK(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	h.mustInstall("orders-db-2")
	dek := h.liveDEK("orders-db-1").dek

	require.NoError(t, h.drop("orders-db-1"))
	require.True(t, dek.Destroyed())
	require.Nil(t, h.liveDEK("orders-db-1"))
	_, err := os.Stat(slotPath(h.dataDir, testInstance, "orders-db-1"))
	require.ErrorIs(t, err, os.ErrNotExist)
	latest := h.latest("orders-db-1")
	require.Equal(t, "destroyed", string(latest.State))
	require.Equal(t, installed.KeyCheckValue, latest.CheckValue, "says which key was destroyed")
	require.NotNil(t, h.liveDEK("orders-db-2"), "other nodes are unaffected")

	require.NoError(t, h.drop("orders-db-1"), "idempotent")
	require.Equal(t, contract.KeyDestroyed, h.status("orders-db-1").State)
}

func TestDropKeySlot_WithoutSlotIsSuccess(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.drop("orders-db-1"))
	all, err := h.cat.ReportHistory(h.ctx, testInstance, "orders-db-1")
	require.NoError(t, err)
	require.Empty(t, all, "nothing dropped, nothing reported")
	require.Equal(t, contract.KeyPending, h.status("orders-db-2").State)
}

func TestDropKeySlot_NodeGoneFromCatalogStillDrops(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	dek := h.liveDEK("orders-db-1").dek
	require.NoError(t, h.cat.DeleteInstance(h.ctx, testInstance))

	require.NoError(t, h.drop("orders-db-1"), "reporting is best effort")
	require.True(t, dek.Destroyed())
	_, err := os.Stat(slotPath(h.dataDir, testInstance, "orders-db-1"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestDropKeySlot_CorruptSlotIsRemoved(t *testing.T) {
	h := newHarness(t)
	h.mustInstall("orders-db-1")
	writeSlotFile(t, h.dataDir, "orders-db-1", []byte("garbage"))
	require.NoError(t, h.drop("orders-db-1"))
	_, err := os.Stat(slotPath(h.dataDir, testInstance, "orders-db-1"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
