package node

import (
	"context"
	"errors"

	"github.com/byokflow/byokflow/contract"
)

// shredDetail is the detail of a shredded node's report.
const shredDetail = "crypto-shred: DEK zeroized in memory, key slot overwritten and removed by host "

// ShredKeySlot is the node activity contract.ActivityShredKeySlot, the node
// step of a crypto-shred: it zeroizes the node's DEK in memory, overwrites
// its key slot with zeros, fsyncs, removes it and fsyncs the directory,
// then reports the node destroyed and returns the report as stored.
//
// Unlike DropKeySlot, the report is part of the work: a catalog that
// refuses it fails the activity (a node the catalog does not know fails
// InstanceNotFound), because the shred certificate is built from these
// reports. A slot too corrupt to read is shredded all the same. It is
// idempotent: a node without a slot or DEK reports destroyed again, under
// the key of the slot this agent shredded when it remembers one.
func (a *Agent) ShredKeySlot(ctx context.Context, in contract.ShredKeySlotInput) (contract.NodeReport, error) {
	const op = "shred key slot"
	n, unlock, err := a.claim(ctx, op, in.InstanceID, in.NodeID, checkIDs(in.InstanceID, in.NodeID))
	if err != nil {
		return contract.NodeReport{}, err
	}
	defer unlock()
	slot, err := a.slots.Load(n.InstanceID, n.NodeID)
	switch {
	case errors.Is(err, ErrSlotNotFound):
		slot, _ = a.keys.droppedSlot(n)
	case errors.Is(err, ErrSlotCorrupt):
		slot = Slot{} // unreadable: shred it without knowing its key
	case err != nil:
		return contract.NodeReport{}, slotError(op, n, err)
	}
	hadKey := a.keys.drop(n, slot)
	if err := a.slots.Remove(n.InstanceID, n.NodeID); err != nil {
		return contract.NodeReport{}, slotError(op, n, err)
	}
	a.log.Info("key slot shredded", "instance", n.InstanceID, "node", n.NodeID, "root_key", slot.RootKeyID,
		"key_version", slot.KeyVersionID, "check_value", slot.CheckValue, "dek_was_in_memory", hadKey)
	return a.publish(ctx, a.newReport(n, slot, contract.KeyDestroyed, shredDetail+a.host))
}
