package e2e

import (
	"encoding/json"
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

	r, recovery := s.crash(t, nil, took/5, took*4/5, func() { s.KillNode("a") }, func() { s.StartNode("a") },
		"backup", "--instance", name, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	t.Logf("the restarted agent failed its dead attempt for Temporal to retry it: %t",
		strings.Contains(s.nodeLog("a"), "failed the attempts the previous run left"))
	require.LessOrEqual(t, recovery, recoveryBudget, "the backup finishes within %s of the agent's restart", recoveryBudget)
	var b backupDoc
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &b), r.Stdout)
	require.NotEmpty(t, b.SHA256)
	require.Greater(t, b.Bytes, first.Bytes/2, "the whole database was backed up")
	require.Empty(t, s.tmpBackups(), "no half-written backup file left")
}

// TestRecovery_KeyStepsSurviveAKilledAgent: a node's agent killed during
// the key steps of a provision (install, then its server) and of a
// rotation (rewrap) costs at most the budget once it is back.
func TestRecovery_KeyStepsSurviveAKilledAgent(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.StartNode("b")
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("recovery-keys-root")
	name := UniqueName("rkeys")

	wraps := s.Emu.Server.Stats()[emulator.OpWrap]
	installing := func() bool { return s.Emu.Server.Stats()[emulator.OpWrap] > wraps }
	r, recovery := s.crash(t, installing, 0, 100*time.Millisecond, func() { s.KillNode("b") },
		func() { s.StartNode("b") }, "provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	t.Logf("b failed a dead attempt at restart: %t", strings.Contains(s.nodeLog("b"), "failed the attempts the previous run left"))
	require.LessOrEqual(t, recovery, recoveryBudget, "provision within %s of the agent's restart", recoveryBudget)
	requireAllAt(t, s.Status(name).Nodes, 2, key)

	rotations := s.Emu.Server.Stats()[emulator.OpRotate]
	rewrapping := func() bool { return s.Emu.Server.Stats()[emulator.OpRotate] > rotations }
	r, recovery = s.crash(t, rewrapping, 0, 60*time.Millisecond, func() { s.KillNode("b") },
		func() { s.StartNode("b") }, "rotate", "--instance", name, "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	t.Logf("b failed a dead attempt at restart: %t", strings.Contains(s.nodeLog("b"), "failed the attempts the previous run left"))
	require.LessOrEqual(t, recovery, recoveryBudget, "rotation within %s of the agent's restart", recoveryBudget)
	st := s.Status(name)
	require.NotEqual(t, key, st.Nodes[0].KeyVersion, "rotated")
	requireAllAt(t, st.Nodes, 2, st.Nodes[0].KeyVersion)
}

// TestRecovery_ProvisionSurvivesAKilledControlWorker: the control-plane
// worker killed at a random moment of a provision costs at most the budget
// once it is back.
func TestRecovery_ProvisionSurvivesAKilledControlWorker(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.StartNode("b")
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("recovery-control-root")
	name := UniqueName("rcontrol")
	r, recovery := s.crash(t, nil, 200*time.Millisecond, 3*time.Second, s.KillWorker, s.StartWorker,
		"provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.LessOrEqual(t, recovery, recoveryBudget, "provision within %s of the worker's restart", recoveryBudget)
	requireAllAt(t, s.Status(name).Nodes, 2, key)
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

	s.Emu.Server.SetFaults(emulator.Faults{OutageUntil: time.Now().Add(time.Hour)})
	start := time.Now()
	s.StartNode("a")
	ready := time.Since(start)
	t.Logf("agent ready %s after its start, Key Protect down", ready.Round(time.Millisecond))
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
	t.Logf("node active %s after Key Protect came back", time.Since(back).Round(time.Millisecond))
	requireAllAt(t, s.Status(name).Nodes, 1, key)
}
