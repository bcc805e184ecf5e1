package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
)

// recoveryBudget is what a crashed node agent or control worker may cost a
// workflow that had work on it, from the moment it is back.
const recoveryBudget = 30 * time.Second

// crash starts the starter with args, waits until step reports that the
// step to hit has begun (nil: at once), kills what kill kills at a random
// moment between from and to after that, restarts it with restart, and
// returns the starter's result and how long after the restart (once
// ready) it finished.
func (s *Stack) crash(t *testing.T, step func() bool, from, to time.Duration, kill, restart func(),
	args ...string) (Result, time.Duration) {
	t.Helper()
	done := s.StarterAsync(args...)
	for deadline := time.Now().Add(time.Minute); step != nil && !step(); time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "starter %v did not reach the step to crash in", args)
	}
	at := from + time.Duration(rand.Int64N(int64(to-from)+1))
	time.Sleep(at)
	kill()
	restart()
	back := time.Now()
	var r Result
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("starter %v did not finish within 3 minutes of the restart", args)
	}
	took := time.Since(back)
	t.Logf("starter %v: killed %s into its step, finished %s after the restart", args[0], at.Round(time.Millisecond),
		took.Round(time.Millisecond))
	return r, took
}

// TestRecovery_BackupSurvivesAKilledPrimaryAgent: the agent serving the
// primary is killed at a random moment of a backup that takes seconds;
// restarted, it finishes the backup within the budget.
func TestRecovery_BackupSurvivesAKilledPrimaryAgent(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("recovery-backup-root")
	name := UniqueName("rbackup")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "1", "--json")
	r := s.Starter("sql", "--instance", name, "-c", "create table big (id bigint, v text); insert into big "+
		"select g, md5(g::text) || md5((g + 1)::text) from generate_series(1, 1000000) g")
	require.Equal(t, 0, r.Code, r.Stderr)

	start := time.Now()
	var first backupDoc
	s.mustJSON(&first, "backup", "--instance", name, "--json")
	took := time.Since(start)
	t.Logf("one backup of %d bytes: %s", first.Bytes, took.Round(time.Millisecond))

	for range relRepeat(10) {
		relCase(t, "recovery", "backup, primary's agent killed at a random moment", func(t *testing.T, row *relRow) {
			r, recovery := s.crash(t, nil, took/5, took*4/5, func() { s.KillNode("a") }, func() { s.StartNode("a") },
				"backup", "--instance", name, "--json")
			require.Equal(t, 0, r.Code, r.Stderr)
			row.recovered(recovery)
			require.LessOrEqual(t, recovery, recoveryBudget, "the backup finishes within %s of the agent's restart", recoveryBudget)
			var b backupDoc
			require.NoError(t, json.Unmarshal([]byte(r.Stdout), &b), r.Stdout)
			require.NotEmpty(t, b.SHA256)
			require.Greater(t, b.Bytes, first.Bytes/2, "the whole database was backed up")
			s.requireInvariants(t, relExpect{})
		})
	}
}

// TestRecovery_KeyStepsSurviveAKilledAgent: a node's agent killed during
// the key steps of a provision (install, then its server) and of a
// rotation (rewrap) costs at most the budget once it is back.
func TestRecovery_KeyStepsSurviveAKilledAgent(t *testing.T) {
	s := bigStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.StartNode("b")
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("recovery-keys-root")
	name := UniqueName("rkeys")

	for i := range relRepeat(10) {
		relCase(t, "recovery", "provision, agent killed in the install step", func(t *testing.T, row *relRow) {
			name := fmt.Sprintf("%s-%d", name, i)
			wraps := s.Emu.Server.Stats()[emulator.OpWrap]
			installing := func() bool { return s.Emu.Server.Stats()[emulator.OpWrap] > wraps }
			r, recovery := s.crash(t, installing, 0, 100*time.Millisecond, func() { s.KillNode("b") },
				func() { s.StartNode("b") }, "provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
			require.Equal(t, 0, r.Code, r.Stderr)
			row.recovered(recovery)
			require.LessOrEqual(t, recovery, recoveryBudget, "provision within %s of the agent's restart", recoveryBudget)
			requireAllAt(t, s.Status(name).Nodes, 2, key)
			s.requireInvariants(t, relExpect{Rotations: map[string]int{key: 0}})
		})
	}
	name += "-0"
	for i := range relRepeat(10) {
		relCase(t, "recovery", "rotate, agent killed in the rewrap step", func(t *testing.T, row *relRow) {
			rotations := s.Emu.Server.Stats()[emulator.OpRotate]
			rewrapping := func() bool { return s.Emu.Server.Stats()[emulator.OpRotate] > rotations }
			r, recovery := s.crash(t, rewrapping, 0, 60*time.Millisecond, func() { s.KillNode("b") },
				func() { s.StartNode("b") }, "rotate", "--instance", name, "--json")
			require.Equal(t, 0, r.Code, r.Stderr)
			row.recovered(recovery)
			require.LessOrEqual(t, recovery, recoveryBudget, "rotation within %s of the agent's restart", recoveryBudget)
			st := s.Status(name)
			require.NotEqual(t, key, st.Nodes[0].KeyVersion, "rotated")
			requireAllAt(t, st.Nodes, 2, st.Nodes[0].KeyVersion)
			s.requireInvariants(t, relExpect{Rotations: map[string]int{key: i + 1}})
		})
	}
}

// TestRecovery_ProvisionSurvivesAKilledControlWorker: the control-plane
// worker killed at a random moment of a provision costs at most the budget
// once it is back.
func TestRecovery_ProvisionSurvivesAKilledControlWorker(t *testing.T) {
	s := bigStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.StartNode("b")
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("recovery-control-root")
	name := UniqueName("rcontrol")
	for i := range relRepeat(10) {
		relCase(t, "recovery", "provision, control worker killed at a random moment", func(t *testing.T, row *relRow) {
			name := fmt.Sprintf("%s-%d", name, i)
			r, recovery := s.crash(t, nil, 200*time.Millisecond, 3*time.Second, s.KillWorker, s.StartWorker,
				"provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
			require.Equal(t, 0, r.Code, r.Stderr)
			row.recovered(recovery)
			require.LessOrEqual(t, recovery, recoveryBudget, "provision within %s of the worker's restart", recoveryBudget)
			requireAllAt(t, s.Status(name).Nodes, 2, key)
			s.requireInvariants(t, relExpect{})
		})
	}
}

// TestRecovery_AgentIsReadyWhileKeyProtectIsDown: an agent started while
// Key Protect answers nothing but 503 is ready within seconds, reports its
// node unreachable, and brings it back, active, as soon as Key Protect
// returns, with no restart.
func TestRecovery_AgentIsReadyWhileKeyProtectIsDown(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("recovery-outage-root")
	name := UniqueName("routage")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "1", "--json")
	s.StopNode("a") // server stopped, fscrypt key removed: only Key Protect can bring it back

	relCase(t, "recovery", "agent started while Key Protect is down", func(t *testing.T, row *relRow) {
		s.Emu.Server.SetFaults(emulator.Faults{OutageUntil: time.Now().Add(time.Hour)})
		start := time.Now()
		s.StartNode("a")
		ready := time.Since(start)
		row.note("agent ready %s after its start, Key Protect down", ready.Round(10*time.Millisecond))
		require.Less(t, ready, 5*time.Second, "ready without Key Protect")
		eventually(t, "node a to report unreachable", func() bool {
			return strings.Contains(s.nodeLog("a"), "state=unreachable")
		})
		require.Empty(t, servers(name), "a node whose key is not in serves nothing")

		s.Emu.Server.SetFaults(emulator.Faults{})
		back := time.Now()
		eventually(t, "node a to report active again", func() bool {
			st := s.Status(name)
			at, err := time.Parse(time.RFC3339Nano, st.Nodes[0].ReportedAt)
			return err == nil && at.After(back) && st.Nodes[0].State == "active" && st.Nodes[0].ServerUp
		})
		require.Len(t, servers(name), 1, "its server runs again")
		row.recovered(time.Since(back))
		requireAllAt(t, s.Status(name).Nodes, 1, key)
		s.requireInvariants(t, relExpect{})
	})
}
