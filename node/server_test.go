package node

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/node/fscrypt"
)

// newRow returns a value no other test writes.
func newRow(t testing.TB) string {
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "row-" + hex.EncodeToString(b)
}

// insertRow writes v into table t of conn's database, making the table.
func insertRow(t testing.TB, conn *pgx.Conn, v string) {
	t.Helper()
	_, err := conn.Exec(t.Context(), "CREATE TABLE IF NOT EXISTS t (v text)")
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "INSERT INTO t VALUES ($1)", v)
	require.NoError(t, err)
}

// waitRow waits until table t of conn's database holds v.
func waitRow(t testing.TB, conn *pgx.Conn, v string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		err := conn.QueryRow(t.Context(), "SELECT count(*) FROM t WHERE v = $1", v).Scan(&n)
		return err == nil && n == 1
	}, 20*time.Second, 100*time.Millisecond, "row %s", v)
}

func TestStartStandby_StreamsFromThePrimary(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, serverVolumeMiB)
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	s := h.startStandby(p, "orders-db-2")

	require.Equal(t, contract.RolePrimary, p.report.Role)
	require.Equal(t, contract.RoleStandby, s.report.Role)
	for _, r := range []contract.NodeReport{p.report, s.report} {
		require.Equal(t, contract.KeyActive, r.State, r.Detail)
		require.True(t, r.ServerUp, r.NodeID)
		require.Equal(t, fscrypt.Protection, r.Storage, r.NodeID)
		require.Equal(t, "present", r.StorageKey, r.NodeID)
	}
	require.Equal(t, contract.ReplicationStreaming, s.report.Replication)
	require.Equal(t, p.source.Address, p.report.Address)
	require.NotEqual(t, p.report.Address, s.report.Address, "every node serves on its own port")
	require.NotEqual(t, p.report.StorageKeyID, s.report.StorageKeyID, "every node under its own key")
	require.Equal(t, contract.ReplicationAAD(testInstance), p.source.AAD)

	row := newRow(t)
	insertRow(t, h.conn(p, p.database), row)
	standby := h.conn(s, s.database)
	waitRow(t, standby, row)
	_, err := standby.Exec(h.ctx, "INSERT INTO t VALUES ('x')")
	requirePgCode(t, err, "25006") // read-only transaction: a standby
	rep := h.status(s.node)
	require.Equal(t, contract.KeyActive, rep.State, rep.Detail)
	require.Equal(t, contract.ReplicationStreaming, rep.Replication)
}

func TestStartPrimaryAndStandby_AgainKeepTheServersAndReplication(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, serverVolumeMiB)
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	s := h.startStandby(p, "orders-db-2")
	pids := []int{h.postmasterPid(p.ref()), h.postmasterPid(s.ref())}
	before := newRow(t)
	insertRow(t, h.conn(p, p.database), before)

	again, err := h.startPrimaryAgain(p)
	require.NoError(t, err)
	require.Equal(t, contract.KeyActive, again.Report.State, again.Report.Detail)
	require.Equal(t, p.report.Address, again.Report.Address)
	require.Equal(t, p.report.KeyCheckValue, again.Report.KeyCheckValue)
	p.source = again.Primary
	rep, err := h.startStandbyAgain(p, s)
	require.NoError(t, err)
	require.Equal(t, contract.KeyActive, rep.State, rep.Detail)
	require.Equal(t, s.report.Address, rep.Address)
	require.Equal(t, pids, []int{h.postmasterPid(p.ref()), h.postmasterPid(s.ref())}, "the same servers")
	waitRow(t, h.conn(s, s.database), before)

	// The standby reconnects, as after a network blip: it still may.
	_, err = h.superuser(p.ref(), "postgres").Exec(h.ctx,
		"SELECT pg_terminate_backend(pid) FROM pg_stat_replication")
	require.NoError(t, err)
	after := newRow(t)
	insertRow(t, h.conn(p, p.database), after)
	waitRow(t, h.conn(s, s.database), after)
	require.Equal(t, contract.ReplicationStreaming, h.status(s.node).Replication)
}

func TestStart_AdoptsARunningServerAndRestartsOneAfterShutdown(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, serverVolumeMiB)
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	row := newRow(t)
	insertRow(t, h.conn(p, p.database), row)
	pid := h.postmasterPid(p.ref())

	rep := h.startReports()[p.node] // the agent died without Shutdown: its server runs on
	require.Equal(t, contract.KeyActive, rep.State, rep.Detail)
	require.True(t, rep.ServerUp)
	require.Equal(t, contract.RolePrimary, rep.Role)
	require.Equal(t, p.report.KeyCheckValue, rep.KeyCheckValue)
	require.Equal(t, p.report.Address, rep.Address)
	require.Equal(t, pid, h.postmasterPid(p.ref()), "adopted, not restarted")

	require.NoError(t, h.agent.Shutdown(h.ctx))
	require.Empty(t, procsUnder(h.agent.dirsOf(p.ref()).data), "Shutdown stops the server")
	require.Equal(t, fscrypt.StatusAbsent, h.keyStatus(p.report.StorageKeyID), "and locks the storage")

	rep = h.startReports()[p.node]
	require.Equal(t, contract.KeyActive, rep.State, rep.Detail)
	require.True(t, rep.ServerUp)
	require.Equal(t, "present", rep.StorageKey)
	require.Equal(t, p.report.KeyCheckValue, rep.KeyCheckValue)
	require.NotEqual(t, pid, h.postmasterPid(p.ref()), "a new server")
	waitRow(t, h.conn(p, p.database), row)
}
