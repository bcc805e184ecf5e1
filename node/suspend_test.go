package node

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/node/fscrypt"
)

func (h *harness) suspend(s serving, reason string) (contract.NodeReport, error) {
	return h.execute(contract.ActivitySuspendNode, contract.SuspendNodeInput{InstanceID: s.instance,
		NodeID: s.node, Reason: reason})
}

func (h *harness) resume(s serving) (contract.NodeReport, error) {
	return h.execute(contract.ActivityResumeNode, contract.ResumeNodeInput{InstanceID: s.instance, NodeID: s.node})
}

// requireLocked fails unless node s is down and its storage locked: no
// server process, its fscrypt key absent, no DEK in memory, and the data
// directory showing only encrypted names.
func (h *harness) requireLocked(s serving) {
	h.t.Helper()
	d := h.agent.dirsOf(s.ref())
	require.Empty(h.t, procsUnder(d.data), "no server process of the node")
	require.Equal(h.t, fscrypt.StatusAbsent, h.keyStatus(s.report.StorageKeyID))
	require.Nil(h.t, h.liveDEK(s.node), "DEK out of memory")
	entries, err := os.ReadDir(d.data)
	require.NoError(h.t, err)
	require.Len(h.t, entries, 1)
	require.NotEqual(h.t, "pgdata", entries[0].Name(), "file names are ciphertext")
	_, err = os.Stat(d.pgdata)
	require.ErrorIs(h.t, err, os.ErrNotExist, "PGDATA cannot be found without the key")
}

func TestSuspendNode_StopsServerLocksStorageUntilResumed(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, serverVolumeMiB)
	h.backupDir = t.TempDir()
	h.restart()
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	row := newRow(t)
	insertRow(t, h.conn(p, p.database), row)
	dek := h.liveDEK(p.node).dek

	rep, err := h.suspend(p, "root key disabled by the customer")
	require.NoError(t, err)
	require.Equal(t, contract.KeySuspended, rep.State)
	require.Equal(t, "removed", rep.StorageKey)
	require.False(t, rep.ServerUp)
	require.Equal(t, p.report.KeyCheckValue, rep.KeyCheckValue)
	require.Contains(t, rep.Detail, "root key disabled by the customer")
	require.Contains(t, rep.Detail, "starter resume")
	require.True(t, dek.Destroyed(), "the DEK is zeroized")
	h.requireLocked(p)

	unwraps := h.stats(emulator.OpUnwrap)
	rep = h.status(p.node)
	require.Equal(t, contract.KeySuspended, rep.State, "ReportStatus keeps it suspended")
	require.Equal(t, "absent", rep.StorageKey)
	require.Equal(t, unwraps, h.stats(emulator.OpUnwrap), "without unwrapping the slot")
	_, err = h.backup(contract.BackupDatabaseInput{InstanceID: p.instance, NodeID: p.node, BackupID: testBackupID,
		DatabaseName: p.database, RootKeyID: h.rootKey, AAD: contract.BackupAAD(testBackupID)})
	requireType(t, err, contract.ErrTypeNodeNotServing, "suspended: root key disabled by the customer")

	rep = h.startReports()[p.node] // a restarted agent keeps it down
	require.Equal(t, contract.KeySuspended, rep.State)
	require.Equal(t, unwraps, h.stats(emulator.OpUnwrap))
	h.requireLocked(p)

	rep, err = h.resume(p)
	require.NoError(t, err)
	require.Equal(t, contract.KeyActive, rep.State, rep.Detail)
	require.True(t, rep.ServerUp)
	require.Equal(t, "present", rep.StorageKey)
	require.Equal(t, p.report.KeyCheckValue, rep.KeyCheckValue, "the same DEK")
	require.Equal(t, p.report.StorageKeyID, rep.StorageKeyID, "the same storage key")
	waitRow(t, h.conn(p, p.database), row)

	again, err := h.resume(p)
	require.NoError(t, err, "idempotent")
	require.Equal(t, contract.KeyActive, again.State)
	require.Equal(t, contract.KeyActive, h.status(p.node).State)
}

func TestSuspendNode_AgainAndWithoutServerAreSuccess(t *testing.T) {
	h := newHarness(t)
	installed := h.mustInstall("orders-db-1")
	s := serving{instance: testInstance, node: "orders-db-1", report: installed}

	rep, err := h.suspend(s, "")
	require.NoError(t, err)
	require.Equal(t, contract.KeySuspended, rep.State)
	require.Contains(t, rep.Detail, "suspended by an operator")
	require.Equal(t, "removed", rep.StorageKey)
	rep, err = h.suspend(s, "")
	require.NoError(t, err)
	require.Equal(t, contract.KeySuspended, rep.State)
	require.Equal(t, "already absent", rep.StorageKey)

	rep, err = h.resume(s)
	require.NoError(t, err)
	require.Equal(t, contract.KeyPending, rep.State, "key back; the server is still to be made")
	require.Equal(t, "present", rep.StorageKey)
}

func TestSuspendNode_WithoutSlotIsKeySlotMissing(t *testing.T) {
	h := newHarness(t)
	_, err := h.suspend(serving{instance: testInstance, node: "orders-db-1"}, "")
	requireType(t, err, contract.ErrTypeKeySlotMissing, "holds no key slot")
	_, err = h.resume(serving{instance: testInstance, node: "orders-db-1"})
	requireType(t, err, contract.ErrTypeKeySlotMissing, "holds no key slot")
}

func TestStartPrimary_SuspendedNodeStaysDown(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, serverVolumeMiB)
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	_, err := h.suspend(p, "root key disabled by the customer")
	require.NoError(t, err)

	res, err := h.startPrimaryAgain(p) // a provision retry that comes late
	require.Error(t, err, "only ResumeNode brings a suspended node back, got %s: %s", res.Report.State, res.Report.Detail)
	h.requireLocked(p)
	require.Equal(t, contract.KeySuspended, h.status(p.node).State)
}
