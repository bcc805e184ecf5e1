package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/contract"
)

// DropKeySlot is the node activity contract.ActivityDropKeySlot, the
// compensation of InstallKey and the node step of a crypto-shred: it
// zeroizes the node's DEK in memory and overwrites and removes its key
// slot. It is idempotent: no slot and no DEK is success.
//
// When it dropped something it reports the node destroyed, best effort: a
// compensation may run after the instance's node rows are gone, so a report
// the catalog refuses is logged, not returned. A slot too corrupt to read
// is removed all the same.
func (a *Agent) DropKeySlot(ctx context.Context, in contract.DropKeySlotInput) error {
	const op = "drop key slot"
	n, unlock, err := a.claim(ctx, op, in.InstanceID, in.NodeID, checkIDs(in.InstanceID, in.NodeID))
	if err != nil {
		return err
	}
	defer unlock()
	slot, loadErr := a.slots.Load(n.InstanceID, n.NodeID)
	hadSlot := !errors.Is(loadErr, ErrSlotNotFound)
	hadKey := a.keys.drop(n, slot)
	if err := a.slots.Remove(n.InstanceID, n.NodeID); err != nil {
		return fmt.Errorf("%s of node %s of instance %s: %w", op, n.NodeID, n.InstanceID, err)
	}
	if !hadSlot && !hadKey {
		return nil
	}
	a.log.Info("key slot dropped", "instance", n.InstanceID, "node", n.NodeID,
		"root_key", slot.RootKeyID, "key_version", slot.KeyVersionID)
	a.publishBestEffort(ctx, a.newReport(n, slot, contract.KeyDestroyed,
		"DEK zeroized and key slot removed by "+a.host))
	return nil
}
