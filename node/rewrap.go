package node

import (
	"context"
	"fmt"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
)

// RewrapKey is the node activity contract.ActivityRewrapKey: it brings the
// node's key slot to the newest version of its root key and reports the
// DEK active under it. Key Protect's unwrap returns the DEK rewrapped under
// the newest version when the slot's is older; the agent replaces the slot
// atomically (the old slot stays until the new one is durable) and keeps
// the DEK, whose check value does not change.
//
// It is idempotent: a slot already under in.TargetVersionID is reported as
// it is. A slot that Key Protect does not offer to rewrap (it is already
// under the newest version, which is not the target) is also reported as it
// is, for the workflow to judge. No slot fails KeySlotMissing; a slot under
// another root key fails KeySlotConflict.
func (a *Agent) RewrapKey(ctx context.Context, in contract.RewrapKeyInput) (contract.NodeReport, error) {
	const op = "rewrap key"
	n, unlock, err := a.claim(ctx, op, in.InstanceID, in.NodeID, checkKeyInput(in.InstanceID, in.NodeID, in.RootKeyID, in.AAD))
	if err != nil {
		return contract.NodeReport{}, err
	}
	defer unlock()
	slot, err := a.slots.Load(n.InstanceID, n.NodeID)
	if err != nil {
		return contract.NodeReport{}, a.missingSlot(op, n, err)
	}
	if err := checkSameKey(op, n, slot, in.RootKeyID, in.AAD); err != nil {
		return contract.NodeReport{}, err
	}
	if slot.KeyVersionID == in.TargetVersionID {
		return a.loadAndReport(ctx, op, n, slot)
	}
	return a.rewrap(ctx, n, slot)
}

// rewrap unwraps slot, and when Key Protect offers the DEK rewrapped under
// a newer version, replaces the slot with it; then it reports.
func (a *Agent) rewrap(ctx context.Context, n nodeRef, slot Slot) (contract.NodeReport, error) {
	const op = "rewrap key"
	// Unwrap afresh even when the DEK is in memory: it proves the service
	// identity still has access and yields the rewrapped form. The DEK in
	// memory stays until this succeeds (put replaces it).
	heartbeat(ctx, "unwrap")
	w, err := a.wrapperFor(slot.KPInstanceID)
	var dek *encryption.DataKey
	var rewrapped *encryption.WrappedKey
	if err == nil {
		dek, rewrapped, err = w.UnwrapKey(ctx, slot.Wrapped(), slot.AAD)
	}
	if err == nil {
		err = matchCheckValue(dek, slot)
	}
	if err != nil {
		return contract.NodeReport{}, a.fail(op, n, slot, err)
	}
	if rewrapped != nil {
		if slot, err = a.replaceSlot(ctx, slot, *rewrapped); err != nil {
			dek.Destroy()
			return contract.NodeReport{}, fmt.Errorf("%s of node %s of instance %s: %w", op, n.NodeID, n.InstanceID, err)
		}
	}
	a.keys.adopt(n, dek)
	return a.report(ctx, n, slot, contract.KeyActive, ""), nil
}

// replaceSlot atomically replaces slot with one holding rewrapped.
func (a *Agent) replaceSlot(ctx context.Context, slot Slot, rewrapped encryption.WrappedKey) (Slot, error) {
	if rewrapped.KeyVersion == "" || len(rewrapped.Ciphertext) == 0 {
		return slot, fmt.Errorf("Key Protect returned a rewrapped DEK without key version "+
			"or ciphertext for root key %s", slot.RootKeyID)
	}
	next := slot
	next.KeyVersionID, next.WrappedDEK = rewrapped.KeyVersion, rewrapped.Ciphertext
	next.UpdatedAt = a.now().UTC()
	heartbeat(ctx, "save key slot")
	if err := a.slots.Save(next); err != nil {
		return slot, err
	}
	a.log.Info("key slot rewrapped", "instance", slot.InstanceID, "node", slot.NodeID,
		"root_key", slot.RootKeyID, "from_version", slot.KeyVersionID, "to_version", next.KeyVersionID)
	return next, nil
}
