package e2e

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// lockDoc is the part of `starter status --json` about the operation
// holding the instance.
type lockDoc struct {
	State     string `json:"state"`
	Operation *struct {
		Operation  string `json:"operation"`
		WorkflowID string `json:"workflowId"`
	} `json:"operation"`
}

func (s *Stack) lockStatus(instance string) lockDoc {
	s.t.Helper()
	r := s.Starter("status", "--instance", instance, "--json")
	require.Equal(s.t, 0, r.Code, r.Stderr)
	var doc lockDoc
	require.NoError(s.t, json.Unmarshal([]byte(r.Stdout), &doc), r.Stdout)
	return doc
}

// Two operations on one instance at once: the suspend waits for a stopped
// node agent, holding the instance; a rotation started meanwhile is
// refused naming it; once the agent is back the suspend finishes, its lock
// is gone, and the next operation (resume) runs. The instance and its node
// end as the operations that ran left them.
func TestOperations_OneAtATimePerInstance(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	for _, h := range []string{"a", "b", "c"} {
		s.StartNode(h)
	}
	key := s.CreateRootKey("ops-root")
	name := UniqueName("ops")
	var prov statusDoc
	s.mustJSON(&prov, "provision", "--instance", name, "--root-key", key, "--nodes", "1", "--create-authorization", "--json")
	host := prov.Nodes[0].Host

	s.StopNode(host)
	suspend := s.StarterAsync("suspend", "--instance", name, "--json")
	eventually(t, "the suspend to hold the instance", func() bool {
		op := s.lockStatus(name).Operation
		return op != nil && op.Operation == "suspend"
	})
	held := s.lockStatus(name).Operation

	rotate := s.Starter("rotate", "--instance", name, "--json")

	require.Equal(t, 1, rotate.Code, "the second operation is refused: %s", rotate.Stdout)
	require.Contains(t, rotate.Stderr, "[InstanceBusy]")
	require.Contains(t, rotate.Stderr, held.WorkflowID, "the refusal names the running workflow")
	require.Contains(t, rotate.Stderr, "(suspend")
	require.Contains(t, rotate.Stderr, "wait for it to finish")

	s.StartNode(host)
	done := <-suspend
	require.Equal(t, 0, done.Code, done.Stderr)
	after := s.lockStatus(name)
	require.Nil(t, after.Operation, "the lock ends with its workflow")
	require.Equal(t, "active", after.State)
	st := s.Status(name)
	require.Equal(t, "suspended", st.Nodes[0].State, "the suspend ran; the refused rotation did nothing")
	require.Equal(t, key, st.Nodes[0].KeyVersion, "never rotated")

	var resumed statusDoc
	s.mustJSON(&resumed, "resume", "--instance", name, "--json")
	requireAllAt(t, s.Status(name).Nodes, 1, key)
	require.Nil(t, s.lockStatus(name).Operation)
}

// A Key Protect instance that does not exist fails the provision before
// anything is made: no catalog record, no registration, no node files.
func TestOperations_UnknownKPInstanceFailsBeforeAnythingIsMade(t *testing.T) {
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	key := s.CreateRootKey("kp-check-root")
	name := UniqueName("nokp")
	const missing = "00000000-dead-4bad-8bad-000000000000"

	r := s.Starter("provision", "--instance", name, "--root-key", key, "--kp-instance", missing,
		"--create-authorization", "--nodes", "1")

	require.Equal(t, 1, r.Code, r.Stdout)
	require.Contains(t, r.Stderr, "[KPInstanceNotFound]")
	require.Contains(t, r.Stderr, missing)
	require.Contains(t, r.Stderr, "nothing was created")
	status := s.Starter("status", "--instance", name)
	require.NotEqual(t, 0, status.Code, "no catalog record: %s", status.Stdout)
	regs, err := s.Emu.OperatorClient(t).ListRegistrations(context.Background(), key, "")
	require.NoError(t, err)
	require.Empty(t, regs.Registrations)
	require.Empty(t, s.nodeFiles(name))
}
