package node

import (
	"context"
	"errors"

	"github.com/byokflow/byokflow/contract"
)

// ReportStatus is the node activity contract.ActivityReportStatus: it
// reports the node's current key state and what its server and storage
// say.
//
//   - DEK in memory: active (or rewrap_required when Key Protect offered a
//     newer version at the last unwrap) under the slot's key version, with
//     no call to Key Protect — error when its server is down, or a
//     standby does not stream.
//   - suspended by SuspendNode: suspended, until ResumeNode.
//   - slot on disk but no DEK in memory (Key Protect was unreachable or the
//     key disabled at start-up): the agent tries to unwrap it again and,
//     when it can, brings the node up (fscrypt key, server) and reports
//     the outcome: active, suspended, destroyed, unreachable, error.
//   - corrupt slot: error, with what to do.
//   - no slot: destroyed when this agent dropped it, else pending.
//
// Key Protect's answers become states, not errors: only a failure to read
// the slot store fails the activity.
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
	return a.status(ctx, n)
}

// status works out node n's report, bringing the node up if its DEK is not
// in memory. The caller holds the node's lock.
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
	if m, err := readMeta(a.dirsOf(n)); err == nil && m.Suspended != "" {
		return a.report(ctx, n, slot, contract.KeySuspended, m.Suspended+": run `starter resume` to bring it back"), nil
	}
	_, wasLive := a.keys.get(n)
	k, err := a.load(ctx, n, slot)
	if err != nil {
		f := classify("unwrap key", n, slot.RootKeyID, err)
		if f.flush {
			_ = a.fail("unwrap key", n, slot, err)
		}
		return a.report(ctx, n, slot, f.state, detailOf(f.err)), nil
	}
	if !wasLive {
		if err := a.bringUp(ctx, "bring node up", n, slot, false); err != nil {
			return a.report(ctx, n, slot, contract.KeyError, detailOf(err)), nil
		}
	}
	state, detail := stateOf(k)
	return a.report(ctx, n, slot, state, detail), nil
}
