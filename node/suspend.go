package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/node/fscrypt"
)

// teardown is what taking a node down did, for its report.
type teardown struct {
	stopped bool            // a running server was stopped
	keyID   string          // the fscrypt key identifier, if the node had one
	removal fscrypt.Removal // how the fscrypt key's removal went
	hadKey  bool            // the DEK was in memory and was zeroized
	deleted string          // with files removed: what was deleted
}

// storageDetail says, in a report's words, what happened to the storage.
func (t teardown) storageDetail() string {
	if t.keyID == "" {
		return "no fscrypt key"
	}
	return fmt.Sprintf("fscrypt key %s %s", t.keyID, t.removal)
}

// takeDown stops node n's server, removes its fscrypt key and zeroizes its
// DEK, in that order, so that nothing of the node stays readable; with
// removeFiles it then deletes its directories (ciphertext by then).
func (a *Agent) takeDown(ctx context.Context, n nodeRef, removeFiles bool) (teardown, error) {
	var t teardown
	m, err := readMeta(a.dirsOf(n))
	if err != nil {
		return t, err
	}
	t.keyID = m.StorageKeyID
	if m.Port != 0 {
		srv, err := a.serverOf(n, m)
		if err != nil {
			return t, err
		}
		t.stopped, _ = srv.Running()
		if err := srv.Stop(ctx); err != nil {
			return t, a.serverError("stop server", n, err)
		}
	}
	if t.removal, err = a.lockStorage(n); err != nil {
		return t, err
	}
	t.hadKey = a.keys.flush(n)
	if removeFiles {
		t.deleted, err = a.removeNodeFiles(n)
	}
	return t, err
}

// SuspendNode is the node activity contract.ActivitySuspendNode: stop the
// server, remove the fscrypt key, zeroize the DEK; the key slot stays, and
// the node stays down (across agent restarts too) until ResumeNode.
func (a *Agent) SuspendNode(ctx context.Context, in contract.SuspendNodeInput) (contract.NodeReport, error) {
	n, slot, unlock, err := a.claimSlot(ctx, "suspend node", in.InstanceID, in.NodeID)
	if err != nil {
		return contract.NodeReport{}, err
	}
	defer unlock()
	reason := cmp.Or(in.Reason, "suspended by an operator")
	if err := a.markSuspended(n, reason); err != nil {
		return contract.NodeReport{}, err
	}
	t, err := a.takeDown(ctx, n, false)
	if err != nil {
		return contract.NodeReport{}, err
	}
	r := a.report(ctx, n, slot, contract.KeySuspended, fmt.Sprintf("%s: server stopped, %s, DEK zeroized "+
		"on host %s; key slot kept: run `starter resume` to bring it back", reason, t.storageDetail(), a.host))
	r.StorageKey = t.removal.String()
	return r, nil
}

// markSuspended records in the node's meta that it is suspended.
func (a *Agent) markSuspended(n nodeRef, reason string) error {
	d := a.dirsOf(n)
	m, err := readMeta(d)
	if err == nil {
		m.Suspended = reason
		err = writeMeta(d, m)
	}
	return err
}

// ResumeNode is the node activity contract.ActivityResumeNode: unwrap the
// key slot, add the fscrypt key, start the server and report. A root key
// that is still disabled fails KeySuspended and the node stays down.
func (a *Agent) ResumeNode(ctx context.Context, in contract.ResumeNodeInput) (contract.NodeReport, error) {
	const op = "resume node"
	n, slot, unlock, err := a.claimSlot(ctx, op, in.InstanceID, in.NodeID)
	if err != nil {
		return contract.NodeReport{}, err
	}
	defer unlock()
	if err := a.bringUp(ctx, op, n, slot, true); err != nil {
		return contract.NodeReport{}, err
	}
	k, _ := a.keys.get(n)
	state, detail := stateOf(k)
	return a.report(ctx, n, slot, state, detail), nil
}

// bringUp makes node n serve: its DEK in memory, its fscrypt key added,
// its server (once made) started, a standby streaming. A suspended node is
// left down unless resume is set, which clears the suspension.
func (a *Agent) bringUp(ctx context.Context, op string, n nodeRef, slot Slot, resume bool) error {
	d := a.dirsOf(n)
	m, err := readMeta(d)
	if err != nil || (m.Suspended != "" && !resume) {
		return err
	}
	if _, err := a.unlock(ctx, op, n, slot); err != nil {
		return err
	}
	if m, err = readMeta(d); err != nil {
		return err
	}
	if m.Suspended != "" {
		m.Suspended = ""
		if err := writeMeta(d, m); err != nil {
			return err
		}
	}
	if m.Port == 0 || m.Role == "" {
		return nil // the server is made by StartPrimary or StartStandby
	}
	srv, err := a.serverOf(n, m)
	if err == nil {
		heartbeat(ctx, "start server")
		err = srv.Start(ctx)
	}
	if err == nil && m.Role == contract.RoleStandby {
		err = waitStreaming(ctx, srv)
	}
	return a.serverError(op, n, err)
}

// claimSlot takes node n's lock and loads its key slot, which must exist;
// the caller must call unlock.
func (a *Agent) claimSlot(ctx context.Context, op, instanceID, nodeID string) (nodeRef, Slot, func(), error) {
	n, unlock, err := a.claim(ctx, op, instanceID, nodeID, checkIDs(instanceID, nodeID))
	if err != nil {
		return n, Slot{}, nil, err
	}
	slot, err := a.slots.Load(n.InstanceID, n.NodeID)
	if err != nil {
		unlock()
		return n, slot, nil, a.missingSlot(op, n, err)
	}
	return n, slot, unlock, nil
}

// missingSlot classifies a failure to load the slot of a node that must
// have one.
func (a *Agent) missingSlot(op string, n nodeRef, err error) error {
	if errors.Is(err, ErrSlotNotFound) {
		return contract.NewError(contract.ErrTypeKeySlotMissing, fmt.Sprintf(
			"%s of node %s of instance %s: host %s holds no key slot for the node: check the "+
				"node's placement in the catalog, or whether its key slot was dropped",
			op, n.NodeID, n.InstanceID, a.host), err)
	}
	return slotError(op, n, err)
}
