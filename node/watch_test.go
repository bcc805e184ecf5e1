package node

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// watching runs the agent's Watch until the test ends (before the harness
// shuts the agent down) and collects what it records.
type watching struct {
	mu      sync.Mutex
	reports []contract.NodeReport
}

func (h *harness) watch() *watching {
	h.t.Helper()
	w := &watching{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.agent.Watch(ctx, func(r []contract.NodeReport) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.reports = append(w.reports, r...)
			return nil
		})
	}()
	h.t.Cleanup(func() { cancel(); <-done })
	return w
}

// recorded returns the reports of node recorded so far.
func (w *watching) recorded(node string) []contract.NodeReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []contract.NodeReport
	for _, r := range w.reports {
		if r.NodeID == node {
			out = append(out, r)
		}
	}
	return out
}

// kill kills the postmaster of s with SIGKILL and returns its pid.
func (h *harness) kill(s serving) int {
	h.t.Helper()
	pid := h.postmasterPid(s.ref())
	require.NoError(h.t, syscall.Kill(pid, syscall.SIGKILL))
	return pid
}

// waitRestarted waits until s's server accepts connections again under a
// postmaster other than old and returns how long that took.
func (h *harness) waitRestarted(s serving, old int, within time.Duration) time.Duration {
	h.t.Helper()
	start := time.Now()
	m, err := readMeta(h.agent.dirsOf(s.ref()))
	require.NoError(h.t, err)
	srv, err := h.agent.serverOf(s.ref(), m)
	require.NoError(h.t, err)
	require.Eventually(h.t, func() bool {
		st, err := srv.Status(h.ctx) // connects: the server accepts connections
		return err == nil && st.Running && h.postmasterPid(s.ref()) != old
	}, within, 100*time.Millisecond, "the server of %s runs again", s.node)
	return time.Since(start)
}

// A killed primary and a killed standby come back by themselves with every
// committed row, and stream again; the restarts are recorded. A node whose
// lock an activity holds is left alone until it is released, and a
// suspended node stays down.
func TestWatch_RestartsKilledServersButNotASuspendedOne(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, serverVolumeMiB)
	p := h.startPrimary(testInstance, "orders-db-1", testDatabase)
	s := h.startStandby(p, "orders-db-2")
	rows := []string{newRow(t)}
	insertRow(t, h.conn(p, p.database), rows[0])
	w := h.watch()
	time.Sleep(watchEvery) // a round sees both servers running

	took := h.waitRestarted(p, h.kill(p), 30*time.Second)
	t.Logf("primary back %s after its SIGKILL", took.Round(time.Millisecond))
	waitRow(t, h.conn(p, p.database), rows[0])
	rows = append(rows, newRow(t))
	insertRow(t, h.conn(p, p.database), rows[1])
	waitRow(t, h.conn(s, s.database), rows[1])
	require.Eventually(t, func() bool { return len(w.recorded(p.node)) > 0 }, 10*time.Second, 50*time.Millisecond)
	rep := w.recorded(p.node)[0]
	require.Equal(t, contract.KeyActive, rep.State, rep.Detail)
	require.True(t, rep.ServerUp)
	require.Equal(t, p.report.Address, rep.Address, "back where it served")

	h.waitRestarted(s, h.kill(s), 30*time.Second)
	rows = append(rows, newRow(t))
	insertRow(t, h.conn(p, p.database), rows[2])
	standby := h.conn(s, s.database)
	for _, r := range rows {
		waitRow(t, standby, r)
	}
	require.Eventually(t, func() bool {
		r := w.recorded(s.node)
		return len(r) > 0 && r[len(r)-1].Replication == contract.ReplicationStreaming
	}, 20*time.Second, 50*time.Millisecond, "the standby's restart recorded, streaming")

	unlock, err := h.agent.keys.lock(h.ctx, p.ref()) // an activity works on the primary
	require.NoError(t, err)
	old := h.kill(p)
	time.Sleep(2 * watchEvery)
	require.Equal(t, old, h.postmasterPid(p.ref()), "left alone while the activity holds the node")
	unlock()
	h.waitRestarted(p, old, 30*time.Second)

	_, err = h.suspend(p, "root key disabled by the customer")
	require.NoError(t, err)
	time.Sleep(2 * watchEvery)
	h.requireLocked(p)
	restarts := strings.Count(string(h.logs.Bytes()), "server found down")
	require.Equal(t, 3, restarts, "three restarts, none after the suspension:\n%s", h.logs.Bytes())
}
