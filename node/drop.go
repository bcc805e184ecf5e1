package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/contract"
)

// DropKeySlot is the node activity contract.ActivityDropKeySlot, the
// compensation of InstallKey, StartPrimary and StartStandby: it stops the
// node's server, removes its fscrypt key, zeroizes its DEK in memory,
// deletes its directories and overwrites and removes its key slot. It is
// idempotent: a node with none of these is success. A slot too corrupt to
// read is removed all the same.
func (a *Agent) DropKeySlot(ctx context.Context, in contract.DropKeySlotInput) error {
	const op = "drop key slot"
	n, unlock, err := a.claim(ctx, op, in.InstanceID, in.NodeID, checkIDs(in.InstanceID, in.NodeID))
	if err != nil {
		return err
	}
	defer unlock()
	slot, loadErr := a.slots.Load(n.InstanceID, n.NodeID)
	hadSlot := !errors.Is(loadErr, ErrSlotNotFound)
	t, err := a.takeDown(ctx, n, true)
	if err != nil {
		return err
	}
	a.keys.drop(n, slot)
	if err := a.slots.Remove(n.InstanceID, n.NodeID); err != nil {
		return fmt.Errorf("%s of node %s of instance %s: %w", op, n.NodeID, n.InstanceID, err)
	}
	if hadSlot || t.hadKey || t.keyID != "" {
		a.log.Info("node dropped", "instance", n.InstanceID, "node", n.NodeID, "root_key", slot.RootKeyID,
			"server_stopped", t.stopped, "storage", t.storageDetail(), "files", t.deleted)
	}
	return nil
}
