package node

import (
	"context"
	"fmt"
	"time"

	"github.com/byokflow/byokflow/contract"
)

// Start registers the agent's host and task queue in the catalog, then
// brings back every key slot it holds: it unwraps each with the service
// identity into memory and reports the node, as ReportStatus does.
//
// A slot whose root key has been rotated since it was written is reported
// rewrap_required under the slot's version, with its DEK in memory and
// usable; the slot itself is left as it is until a RewrapKey (a rotation,
// or `starter rotate --rewrap-only`) replaces it, so that slots change only
// under a workflow. A slot that cannot be unwrapped is reported suspended,
// destroyed, unreachable or error, with a detail; ReportStatus retries it
// later. Only a failure to reach the catalog or to read the data
// directory fails Start; a node the catalog no longer knows is logged.
func (a *Agent) Start(ctx context.Context) ([]contract.NodeReport, error) {
	if _, err := a.catalog.UpsertHost(ctx, a.host, a.TaskQueue()); err != nil {
		return nil, fmt.Errorf("start node agent on host %s: %w: check BYOK_DATABASE_URL", a.host, err)
	}
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

// restore brings back and reports one node's slot at start-up.
func (a *Agent) restore(ctx context.Context, n nodeRef) (contract.NodeReport, error) {
	unlock, err := a.keys.lock(ctx, n)
	if err != nil {
		return contract.NodeReport{}, err
	}
	defer unlock()
	rep, err := a.status(ctx, n)
	if err != nil {
		return rep, err
	}
	stored, err := a.publish(ctx, rep)
	if contract.ErrorType(err) == contract.ErrTypeInstanceNotFound {
		a.log.Warn("key slot of a node the catalog does not know; drop it if the instance is gone",
			"instance", n.InstanceID, "node", n.NodeID, "state", rep.State)
		return rep, nil
	}
	return stored, err
}

// KeepRegistered refreshes the host's last-seen time in the catalog every
// interval until ctx ends, so the control plane can tell a live agent from
// a stale one. Failures are logged and retried at the next tick. Run it in
// its own goroutine after Start.
func (a *Agent) KeepRegistered(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := a.catalog.UpsertHost(ctx, a.host, a.TaskQueue()); err != nil && ctx.Err() == nil {
				a.log.Warn("refresh host registration", "error", err)
			}
		}
	}
}
