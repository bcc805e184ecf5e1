package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
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
	require.NotEmpty(t, h.logs.Bytes())
	requireAbsent(t, h.logs.Bytes(), dek, "the logs")
	requireAbsent(t, dataDirBytes(t, h.dataDir), dek, "the data directory")
}

// TestAgent_NoSecretInLogsOrResults runs a primary and a standby through
// their lifecycle and looks for every secret they involve in the agent's
// logs (its servers' lines included), its results, its key slots and the
// nodes' meta files: the DEKs, the fscrypt keys derived from them, the
// replication password and the admin password.
func TestAgent_NoSecretInLogsOrResults(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, serverVolumeMiB)
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	s := h.startStandby(p, "orders-db-2")
	results := []any{p.report, p.source, s.report}
	secrets := map[string][]byte{"the admin password": []byte(p.password)}
	for _, n := range []serving{p, s} {
		dek := h.dekBytes(n.node)
		secrets["the DEK of "+n.node] = dek
		secrets["the fscrypt key of "+n.node] = storageKey(t, dek, n.ref())
	}
	pass, _, err := h.agent.wrappers.def.UnwrapKey(h.ctx, encryption.WrappedKey{RootKeyID: p.source.RootKeyID,
		Ciphertext: p.source.ReplicationWrapped}, p.source.AAD)
	require.NoError(t, err)
	replication, err := replicationPassword(pass)
	require.NoError(t, err)
	pass.Destroy()
	secrets["the replication password"] = []byte(replication)

	target := h.rotate()
	for _, n := range []serving{p, s} {
		rep, err := h.rewrap(n.node, target)
		require.NoError(t, err)
		results = append(results, rep)
	}
	rep, err := h.execute(contract.ActivitySuspendNode, contract.SuspendNodeInput{InstanceID: s.instance, NodeID: s.node})
	require.NoError(t, err)
	results = append(results, rep)
	rep, err = h.execute(contract.ActivityResumeNode, contract.ResumeNodeInput{InstanceID: s.instance, NodeID: s.node})
	require.NoError(t, err)
	require.Equal(t, contract.KeyActive, rep.State, rep.Detail)
	results = append(results, rep)
	h.restart()
	started, err := h.agent.Start(h.ctx)
	require.NoError(t, err)
	results = append(results, started, h.status(p.node), h.status(s.node))

	returned, err := json.Marshal(results)
	require.NoError(t, err)
	require.NotEmpty(t, h.logs.Bytes())
	metas := append(readAll(t, h.agent.dirsOf(p.ref()).meta), readAll(t, h.agent.dirsOf(s.ref()).meta)...)
	for what, secret := range secrets {
		requireAbsent(t, h.logs.Bytes(), secret, "the logs: "+what)
		requireAbsent(t, returned, secret, "the activity results: "+what)
		requireAbsent(t, dataDirBytes(t, h.dataDir), secret, "the key slots: "+what)
		requireAbsent(t, metas, secret, "the nodes' meta: "+what)
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
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
