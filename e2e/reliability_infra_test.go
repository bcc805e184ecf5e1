package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"

	"github.com/byokflow/byokflow/contract"
)

const (
	// infraCatalogDown is the least time the catalog's PostgreSQL stays down.
	infraCatalogDown = 3 * time.Second
	// infraBudget bounds a provision from the restarted service being
	// ready to its end: the rest of the provision (on a loaded 2-core
	// machine, initdb and a base backup take 10-30 s), an attempt whose
	// task the killed server had handed out but never delivered (retried
	// after the node heartbeat timeout, 15 s) and the pollers' reconnect
	// backoff (at most 10 s). A worker or agent that wedged would take the
	// step's StartToClose (10 min) instead.
	infraBudget = 90 * time.Second
)

// TestReliability_Infra: the Temporal dev server (with its database file)
// and the catalog's PostgreSQL, each restarted in the middle of a 2-node
// provision: the provision completes with every node active, within the
// recovery budget of the service being back, and the worker and the node
// agents are still running. make test runs the first case once.
func TestReliability_Infra(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, row *relRow, in *infraServices)
	}{
		{"catalog PostgreSQL restarted mid-provision", infraCatalogRestart},
		{"temporal dev server restarted mid-provision", infraTemporalRestart},
	}
	in := startInfraServices(t)
	for _, c := range relPick(cases) {
		for range relRepeat(3) {
			relCase(t, "infra", c.name, func(t *testing.T, row *relRow) { c.run(t, row, in) })
		}
	}
}

// infraTemporalRestart kills the dev server with SIGKILL once a node step
// of the provision has started and starts it again on the same port and
// database file. Three starters run the same provision command: the one
// that made the instance's admin password is interrupted while the server
// is down (an operator giving up, or a wait the outage cut off); another,
// attached before the kill, waits through the outage; a third attaches
// once the server is back. The provision completes, and the password the
// first one made logs in.
func infraTemporalRestart(t *testing.T, row *relRow, in *infraServices) {
	s, dev := in.stack(t), in.dev
	c := s.infraClient(t)
	key, name, args := s.infraProvision(t, "itemporal")
	id := "provision-" + name
	started := time.Now()
	maker, made := s.infraStarter(t, args...)
	infraWaitActivity(t, c, id, "the provision to run", func(*workflowpb.PendingActivityInfo) bool { return true })
	waiter := s.StarterAsync(args...)
	// The server steps last a second or more; InstallKey (a slot write,
	// ~100 ms) is over before a poll of Temporal can be sure to see it.
	step := []string{contract.ActivityStartPrimary, contract.ActivityStartStandby}[rand.IntN(2)]
	infraWaitActivity(t, c, id, "a started "+step, infraStarted(step))
	dev.kill(t)
	down := time.Now()
	require.NoError(t, maker.Process.Signal(os.Interrupt))
	r := infraWaitStarter(t, made, args)
	require.NotEqual(t, 0, r.Code, "the interrupted starter failed")
	require.Contains(t, r.Stderr, "run the same command again", "the interrupted starter says how to wait again")
	dev.start(t)
	back := time.Now()
	again := s.StarterAsync(args...)
	rw, r := infraWaitStarter(t, waiter, args), infraWaitStarter(t, again, args)
	took := time.Since(back)
	row.recovered(took)
	row.took(time.Since(started))
	t.Logf("killed in %s; down %s; provision done %s after the server was back; the waiter's wait survived: %t",
		step, back.Sub(down).Round(time.Millisecond), took.Round(time.Millisecond), rw.Code == 0)
	if rw.Code == 0 {
		infraNote(row, "an attached starter waited through the outage; the interrupted one re-attached")
	} else {
		infraNote(row, "a wait did not survive the outage: "+infraFirstLine(rw.Stderr))
	}
	require.Equal(t, 0, r.Code, "the starter re-attached after the restart: %s", r.Stderr)
	require.LessOrEqual(t, took, infraBudget, "provision within %s of the server being back", infraBudget)
	r = s.Starter("sql", "--instance", name, "-c", "select 1")
	require.Equal(t, 0, r.Code, "the admin password the interrupted starter made logs in: %s", r.Stderr)
	requireAllAt(t, s.Status(name).Nodes, 2, key)
	s.requireInfraRunning(t, "worker", "node-a", "node-b")
	s.requireInvariants(t, relExpect{Rotations: map[string]int{key: 0}})
}

// infraCatalogRestart stops the catalog's PostgreSQL (fast shutdown: every
// session ended) once a server step of the provision has started, keeps
// it down until a control-plane activity has failed an attempt on it (and
// at least infraCatalogDown), and starts it again.
func infraCatalogRestart(t *testing.T, row *relRow, in *infraServices) {
	s, pg := in.stack(t), in.pg
	c := s.infraClient(t)
	key, name, args := s.infraProvision(t, "icatalog")
	id := "provision-" + name
	started := time.Now()
	done := s.StarterAsync(args...)
	step := []string{contract.ActivityStartPrimary, contract.ActivityStartStandby}[rand.IntN(2)]
	infraWaitActivity(t, c, id, "a started "+step, infraStarted(step))
	pg.stop(t)
	down := time.Now()
	infraWaitActivity(t, c, id, "an activity to fail an attempt on the catalog", infraRetrying)
	time.Sleep(time.Until(down.Add(infraCatalogDown)))
	pg.start(t)
	back := time.Now()
	r := infraWaitStarter(t, done, args)
	took := time.Since(back)
	row.recovered(took)
	row.took(time.Since(started))
	retried := infraRetried(t, c, id)
	infraNote(row, "attempts retried on the outage: "+mapText(retried, ""))
	t.Logf("stopped in %s; down %s; retried %v; provision done %s after the catalog was back", step,
		back.Sub(down).Round(time.Millisecond), retried, took.Round(time.Millisecond))
	require.Equal(t, 0, r.Code, "provision after the restart: %s", r.Stderr)
	require.LessOrEqual(t, took, infraBudget, "provision within %s of the catalog being back", infraBudget)
	require.NotEmpty(t, retried, "an activity failed an attempt on the outage and was retried")
	requireAllAt(t, s.Status(name).Nodes, 2, key)
	s.requireInfraRunning(t, "worker", "node-a", "node-b")
	s.requireInvariants(t, relExpect{Rotations: map[string]int{key: 0}})
}

// infraProvision starts the worker and the agents of hosts a and b, makes
// a root key and returns it, a new instance name and the starter's
// arguments to provision it on 2 nodes.
func (s *Stack) infraProvision(t *testing.T, prefix string) (key, name string, args []string) {
	s.StartWorker()
	s.StartNode("a")
	s.StartNode("b")
	s.Emu.AuthorizeService(t)
	key = s.CreateRootKey(prefix + "-root")
	name = UniqueName(prefix)
	return key, name, []string{"provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json"}
}

// infraClient is a client of the stack's Temporal server without the
// codec: it reads workflows' pending activities and event metadata.
func (s *Stack) infraClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: s.hostPort, Namespace: "default", Logger: infraQuietLogger()})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// infraWaitActivity waits up to a minute for workflow id to have a pending
// activity that ok accepts, from Temporal's record of the workflow.
func infraWaitActivity(t *testing.T, c client.Client, id, what string, ok func(*workflowpb.PendingActivityInfo) bool) {
	t.Helper()
	eventuallyWithin(t, time.Minute, what+" in workflow "+id, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d, err := c.DescribeWorkflowExecution(ctx, id, "")
		return err == nil && slices.ContainsFunc(d.PendingActivities, ok)
	})
}

// infraStarted accepts a started attempt of activity type typ.
func infraStarted(typ string) func(*workflowpb.PendingActivityInfo) bool {
	return func(p *workflowpb.PendingActivityInfo) bool {
		return p.GetActivityType().GetName() == typ && p.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED
	}
}

// infraRetrying accepts an activity whose attempt failed and that waits for
// (or runs) its next attempt.
func infraRetrying(p *workflowpb.PendingActivityInfo) bool {
	return p.GetAttempt() > 1 && p.GetLastFailure() != nil
}

// infraRetried returns, per activity type of the workflow tree of id, the
// attempts beyond the first its completed activities took.
func infraRetried(t *testing.T, c client.Client, id string) map[string]int64 {
	t.Helper()
	retried := map[string]int64{}
	for _, r := range retriesOf(t, c, id) {
		retried[r.Activity] += int64(r.Attempt - 1)
	}
	return retried
}

// infraWaitStarter waits up to 3 minutes for the starter's result.
func infraWaitStarter(t *testing.T, done <-chan Result, args []string) Result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(3 * time.Minute):
		t.Fatalf("starter %v did not finish within 3 minutes of the restart", args)
		return Result{}
	}
}

// requireInfraRunning: the stack's processes names are still running (none
// exited on the outage).
func (s *Stack) requireInfraRunning(t *testing.T, names ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		cmd := s.procs[n]
		require.NotNil(t, cmd, "%s was started", n)
		require.True(t, infraAlive(cmd.Process.Pid), "%s (pid %d) is still running", n, cmd.Process.Pid)
	}
}

// infraAlive reports whether process pid runs: it exists and is no zombie (the
// stack reaps its processes only when it stops them).
func infraAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	return ok && !strings.HasPrefix(rest, "Z")
}

// infraNote adds note to row once: the runs of a case note the same.
func infraNote(row *relRow, note string) {
	row.mu.Lock()
	seen := slices.Contains(row.Notes, note)
	row.mu.Unlock()
	if !seen {
		row.note("%s", note)
	}
}

func infraFirstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
