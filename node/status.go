package node

import (
	"context"
	"errors"

	"github.com/byokflow/byokflow/contract"
)

// ReportStatus is the node activity contract.ActivityReportStatus: it
// reports the node's current key state and appends it to the catalog.
//
//   - DEK in memory: active (or rewrap_required when Key Protect offered a
//     newer version at the last unwrap) under the slot's key version, with
//     no call to Key Protect.
//   - slot on disk but no DEK in memory (Key Protect was unreachable or the
//     key disabled at start-up): the agent tries to unwrap it again and
//     reports the outcome: active, suspended, destroyed, unreachable, error.
//   - corrupt slot: error, with what to do.
//   - no slot: destroyed when this agent dropped it, else pending.
//
// Key Protect's answers become states, not errors: only a catalog failure
// fails the activity.
func (a *Agent) ReportStatus(ctx context.Context, in contract.ReportStatusInput) (contract.NodeReport, error) {
	if err := checkIDs(in.InstanceID, in.NodeID); err != nil {
		return contract.NodeReport{}, invalidInput("report key status", err)
	}
	n := nodeRef{InstanceID: in.InstanceID, NodeID: in.NodeID}
	unlock, err := a.keys.lock(ctx, n)
	if err != nil {
		return contract.NodeReport{}, err
	}
	defer unlock()
	rep, err := a.status(ctx, n)
	if err != nil {
		return rep, err
	}
	return a.publish(ctx, rep)
}

// status works out node n's report, unwrapping its slot if its DEK is not
// in memory. The caller holds the node's lock and publishes the report.
func (a *Agent) status(ctx context.Context, n nodeRef) (contract.NodeReport, error) {
	slot, err := a.slots.Load(n.InstanceID, n.NodeID)
	switch {
	case errors.Is(err, ErrSlotNotFound):
		if dropped, ok := a.keys.droppedSlot(n); ok {
			return a.newReport(n, dropped, contract.KeyDestroyed, "key slot dropped"), nil
		}
		return a.newReport(n, Slot{}, contract.KeyPending, "no key slot on host "+a.host), nil
	case errors.Is(err, ErrSlotCorrupt):
		return a.newReport(n, Slot{}, contract.KeyError, detailOf(slotError("read key slot", n, err))), nil
	case err != nil:
		return contract.NodeReport{}, slotError("report key status", n, err)
	}
	k, err := a.load(ctx, n, slot)
	if err != nil {
		f := classify("unwrap key", n, slot.RootKeyID, err)
		return a.newReport(n, slot, f.state, detailOf(f.err)), nil
	}
	state, detail := stateOf(k)
	return a.newReport(n, slot, state, detail), nil
}
