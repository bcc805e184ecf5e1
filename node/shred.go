package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/node/fscrypt"
)

// ShredKeySlot is the node activity contract.ActivityShredKeySlot, the node
// step of a crypto-shred. In this order: it stops the node's server,
// removes its fscrypt key from the kernel (from then on its files are
// ciphertext; a removal that finds files open fails and is retried),
// zeroizes its DEK in memory, deletes its directories, overwrites its key
// slot with zeros, fsyncs and removes it; then it reports the node
// destroyed, naming the storage key's removal and what was deleted.
//
// A slot too corrupt to read is shredded all the same. It is idempotent:
// a node without a slot, key or files reports destroyed again, under the
// key of the slot this agent shredded when it remembers one.
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
	t, err := a.takeDown(ctx, n, true)
	if err != nil {
		return contract.NodeReport{}, err
	}
	a.keys.drop(n, slot)
	if err := a.slots.Remove(n.InstanceID, n.NodeID); err != nil {
		return contract.NodeReport{}, slotError(op, n, err)
	}
	r := a.newReport(n, slot, contract.KeyDestroyed, shredDetail(a.host, t))
	if t.keyID != "" {
		r.Storage, r.StorageKeyID, r.StorageKey = fscrypt.Protection, t.keyID, t.removal.String()
	}
	a.log.Info("node shredded", "instance", n.InstanceID, "node", n.NodeID, "root_key", slot.RootKeyID,
		"key_version", slot.KeyVersionID, "check_value", slot.CheckValue, "dek_was_in_memory", t.hadKey,
		"server_stopped", t.stopped, "storage", t.storageDetail(), "files", t.deleted)
	return r, nil
}

// shredDetail is the detail of a shredded node's report.
func shredDetail(host string, t teardown) string {
	server := "no server running"
	if t.stopped {
		server = "server stopped"
	}
	files := t.deleted
	if files == "" {
		files = "no node files"
	}
	return fmt.Sprintf("crypto-shred on host %s: %s; %s; DEK zeroized in memory; %s; key slot overwritten and removed",
		host, server, t.storageDetail(), files)
}
