package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReliability_HostLoss: a host lost for good during a provision fails
// it with the typed deadline error and a full compensation; a standby's
// host lost under a live instance shows the instance degraded while the
// primary serves, and it heals with no operator action when the host
// returns.
func TestReliability_HostLoss(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, row *relRow)
	}{
		{"host down for good during provision", hostDownDuringProvision},
		{"standby host down on a live instance degrades and heals", standbyHostDownAndBack},
	}
	for _, c := range relPick(cases) {
		relCase(t, "host-loss", c.name, c.run)
	}
}

// hostLossDeadline is the node deadline of the provision that loses a
// host: the shortest the contract accepts.
const hostLossDeadline = time.Minute

// hostDownDuringProvision: hosts a, b and c are registered, c's host goes
// down for good, then a three-node provision places a node on c: it fails
// [NodeDeadline] naming c, and nothing of the instance is left on a or b,
// in Key Protect or in the catalog.
func hostDownDuringProvision(t *testing.T, row *relRow) {
	s := NewStack(t)
	s.StartWorker()
	for _, h := range stackHosts {
		s.StartNode(h)
	}
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("hostloss-provision-root")
	name := UniqueName("hlprov")
	s.hostDown(t, "c")

	start := time.Now()
	r := s.Starter("provision", "--instance", name, "--root-key", key, "--nodes", "3",
		"--node-deadline", hostLossDeadline.String())
	took := time.Since(start)
	row.took(took)
	require.Equal(t, 1, r.Code, "stdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
	for _, want := range []string{"[NodeDeadline]", name + "-3", "host c"} {
		require.Contains(t, r.Stderr, want)
	}
	t.Logf("provision failed %s after its start (node deadline %s)", took.Round(time.Millisecond), hostLossDeadline)
	row.note("provision fails after %s with a %s node deadline", took.Round(time.Second), hostLossDeadline)
	s.requireCompensated(t, key, name)
	for _, h := range []string{"a", "b"} {
		require.Empty(t, serversUnder(s.volumes[h].Dir), "servers left on host %s", h)
	}
	s.requireInvariants(t, relExpect{})
}

// standbyHostDownAndBack: the host of a standby of a live three-node
// instance goes down (agent and servers killed, fscrypt key gone with its
// memory); status shows the instance degraded, naming the node and host,
// while the primary serves; the host comes back and the instance heals to
// active with no operator action.
func standbyHostDownAndBack(t *testing.T, row *relRow) {
	s := NewStack(t)
	s.StartWorker()
	for _, h := range stackHosts {
		s.StartNode(h)
	}
	s.Emu.AuthorizeService(t)
	key := s.CreateRootKey("hostloss-standby-root")
	name := UniqueName("hlstandby")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "3", "--json")
	r := s.Starter("sql", "--instance", name, "-c", sampleData+"; create table t (id int primary key); insert into t values (1)")
	require.Equal(t, 0, r.Code, r.Stderr)
	sums := s.checksums(t, name)
	lost := nodeOn(s.Status(name).Nodes, "c")
	require.Equal(t, "standby", lost.Role)

	degraded := s.loseHostUntilDegraded(t, name, lost)
	back := time.Now()
	s.StartNode("c")
	pollEvery(t, 2*time.Minute, "the instance to heal to active", func() bool {
		return s.health(t, name).State == "active"
	})
	healed := time.Since(back)
	row.recovered(healed)
	row.took(degraded)
	row.note("degraded shown %s after the host loss; active %s after the host's return",
		degraded.Round(100*time.Millisecond), healed.Round(100*time.Millisecond))
	t.Logf("degraded %s after the loss, active %s after the return", degraded, healed)
	requireAllAt(t, s.Status(name).Nodes, 3, key)
	pollEvery(t, 30*time.Second, "the returned standby to replay the row written while it was down", func() bool {
		var rows []map[string]*string
		s.mustJSON(&rows, "sql", "--instance", name, "--node", lost.Node, "--json", "-c", "select count(*) as n from t")
		return len(rows) == 1 && rows[0]["n"] != nil && *rows[0]["n"] == "2"
	})
	s.requireInvariants(t, relExpect{Checksums: map[string]map[string]string{name: sums}})
}

// loseHostUntilDegraded takes the host of standby lost down, waits for
// status to show the instance degraded (text and JSON naming the node and
// its host), checks the primary still takes writes (row 2 of table t), and
// returns how long after the loss degraded showed.
func (s *Stack) loseHostUntilDegraded(t *testing.T, instance string, lost nodeRow) time.Duration {
	t.Helper()
	down := time.Now()
	s.hostDown(t, lost.Host, lost.StorageKeyID)
	var doc healthDoc
	pollEvery(t, 90*time.Second, "the instance to show degraded", func() bool {
		doc = s.health(t, instance)
		return doc.State == "degraded"
	})
	degraded := time.Since(down)
	require.Len(t, doc.Health, 1, "one node named: %+v", doc.Health)
	require.Equal(t, lost.Node, doc.Health[0].Node)
	require.Equal(t, lost.Host, doc.Health[0].Host)
	text := s.Starter("status", "--instance", instance)
	require.Contains(t, text.Stdout, "(degraded)")
	require.Contains(t, text.Stdout, lost.Node+" (host "+lost.Host+"): host "+lost.Host+" has not checked in")
	r := s.Starter("sql", "--instance", instance, "-c", "insert into t values (2)")
	require.Equal(t, 0, r.Code, "the primary still serves: %s", r.Stderr)
	return degraded
}
