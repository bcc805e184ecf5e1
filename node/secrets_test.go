package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func TestAgent_PlaintextDEKNeverLeavesMemory(t *testing.T) {
	h := newHarness(t)
	var reports []contract.NodeReport
	reports = append(reports, h.mustInstall("orders-db-1"))
	dek := h.dekBytes("orders-db-1")
	target := h.rotate()
	rep, err := h.rewrap("orders-db-1", target)
	require.NoError(t, err)
	reports = append(reports, rep)
	h.restart()
	started, err := h.agent.Start(h.ctx)
	require.NoError(t, err)
	reports = append(reports, started...)
	reports = append(reports, h.status("orders-db-1"))
	require.Equal(t, dek, h.dekBytes("orders-db-1"), "same DEK throughout")
	require.NoError(t, h.drop("orders-db-1"))

	returned, err := json.Marshal(reports)
	require.NoError(t, err)
	requireAbsent(t, returned, dek, "the activity results")
	history, err := h.cat.ReportHistory(h.ctx, testInstance, "")
	require.NoError(t, err)
	require.NotEmpty(t, history)
	stored, err := json.Marshal(history)
	require.NoError(t, err)
	requireAbsent(t, stored, dek, "the catalog")
	require.NotEmpty(t, h.logs.Bytes())
	requireAbsent(t, h.logs.Bytes(), dek, "the logs")
	requireAbsent(t, dataDirBytes(t, h.dataDir), dek, "the data directory")
}

// dataDirBytes concatenates every file under dir.
func dataDirBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		all = append(all, b...)
		return err
	})
	require.NoError(t, err)
	return all
}
