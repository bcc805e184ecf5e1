package node

import (
	"context"
	"fmt"

	"github.com/byokflow/byokflow/contract"
)

// Start brings back, in one pass and before it returns, every node whose
// key slot the agent holds (the worker instead checks in with Pending at
// once and brings the nodes back with Recover, which retries): it unwraps
// each slot with the service identity, adds the node's fscrypt key, starts
// its server (a standby until it streams), and returns the nodes' reports
// for the caller to record through the control plane (the agent has no
// catalog connection). A server that survived the agent (it runs detached)
// is adopted as it is.
//
// A slot whose root key has been rotated since it was written is reported
// rewrap_required under the slot's version, with its DEK in memory and its
// node serving; the slot itself is left as it is until a RewrapKey
// replaces it, so that slots change only under a workflow. A slot that
// cannot be unwrapped is reported suspended, destroyed, unreachable or
// error, with a detail; ReportStatus (and Recover) try again later. A
// suspended node stays down. Only a failure to read the slot store fails
// Start.
func (a *Agent) Start(ctx context.Context) ([]contract.NodeReport, error) {
	refs, err := a.slots.List()
	if err != nil {
		return nil, fmt.Errorf("start node agent on host %s: %w", a.host, err)
	}
	var reports []contract.NodeReport
	for _, ref := range refs {
		rep, err := a.restore(ctx, nodeRef(ref))
		if err != nil {
			return reports, fmt.Errorf("start node agent on host %s: %w", a.host, err)
		}
		reports = append(reports, rep)
	}
	a.log.Info("node agent started", "task_queue", a.TaskQueue(), "key_slots", len(refs))
	return reports, nil
}

// restore brings back and reports one node at start-up.
func (a *Agent) restore(ctx context.Context, n nodeRef) (contract.NodeReport, error) {
	unlock, err := a.keys.lock(ctx, n)
	if err != nil {
		return contract.NodeReport{}, err
	}
	defer unlock()
	return a.status(ctx, n)
}

// Shutdown takes every node of the agent down as a host shutting down
// does: each server is stopped and each fscrypt key removed from the
// kernel, so no node's data stays readable after the agent is gone; up to
// shutdownParallel nodes at once, so a host with many nodes goes down in
// about the time of one server stop. Key slots stay; the next Start
// brings the nodes back. Call it before Close.
func (a *Agent) Shutdown(ctx context.Context) error {
	refs, err := a.slots.List()
	if err != nil {
		return fmt.Errorf("shut down node agent on host %s: %w", a.host, err)
	}
	return forEachLimited(refs, shutdownParallel, func(ref SlotRef) error {
		n := nodeRef(ref)
		unlock, err := a.keys.lock(ctx, n)
		if err != nil {
			return err
		}
		t, err := a.takeDown(ctx, n, false)
		unlock()
		if err != nil {
			return err
		}
		a.log.Info("node down", "instance", n.InstanceID, "node", n.NodeID, "server_stopped", t.stopped,
			"storage", t.storageDetail())
		return nil
	})
}
