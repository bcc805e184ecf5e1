package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
)

// InstallKey is the node activity contract.ActivityInstallKey: it makes the
// node's key slot (a fresh DEK wrapped under in.RootKeyID with in.AAD by the
// service identity), keeps the DEK in memory, adds the fscrypt key derived
// from it to the kernel and makes the node's data directory encrypted
// under it. It reports the node pending under the key version Key Protect
// wrapped with: its server comes next (StartPrimary, StartStandby).
//
// It is idempotent: a slot for the same instance, node, root key and AAD is
// reported as it is (its DEK unwrapped into memory and its storage unlocked
// if needed), without a second wrap; a slot under another root key fails
// KeySlotConflict. An attempt that fails or is canceled after writing its
// slot removes it, the fscrypt key and the directories it made.
func (a *Agent) InstallKey(ctx context.Context, in contract.InstallKeyInput) (contract.NodeReport, error) {
	const op = "install key"
	n, unlock, err := a.claim(ctx, op, in.InstanceID, in.NodeID, checkKeyInput(in.InstanceID, in.NodeID, in.RootKeyID, in.AAD))
	if err != nil {
		return contract.NodeReport{}, err
	}
	defer unlock()
	slot, err := a.slots.Load(n.InstanceID, n.NodeID)
	switch {
	case err == nil:
		if err := checkSameKey(op, n, slot, in.RootKeyID, in.AAD); err != nil {
			return contract.NodeReport{}, err
		}
		return a.loadAndReport(ctx, op, n, slot)
	case errors.Is(err, ErrSlotNotFound):
		return a.installNew(ctx, n, in)
	default:
		return contract.NodeReport{}, slotError(op, n, err)
	}
}

// installNew generates, wraps and stores a new DEK for node n and unlocks
// its storage with it.
func (a *Agent) installNew(ctx context.Context, n nodeRef, in contract.InstallKeyInput) (contract.NodeReport, error) {
	const op = "install key"
	dek, err := encryption.NewDataKey()
	if err != nil {
		return contract.NodeReport{}, fmt.Errorf("%s of node %s of instance %s: %w", op, n.NodeID, n.InstanceID, err)
	}
	slot, err := a.wrapNew(ctx, n, in, dek)
	if err != nil {
		dek.Destroy()
		return contract.NodeReport{}, err
	}
	a.keys.put(n, liveKey{dek: dek})
	if err := ctx.Err(); err != nil {
		a.undoInstall(ctx, n)
		return contract.NodeReport{}, err
	}
	if err := a.unlockStorage(n, dek); err != nil {
		a.undoInstall(ctx, n)
		return contract.NodeReport{}, err
	}
	return a.report(ctx, n, slot, contract.KeyActive, ""), nil
}

// undoInstall removes what a failed install made: the DEK, the fscrypt
// key, the node's files and its slot.
func (a *Agent) undoInstall(ctx context.Context, n nodeRef) {
	if _, err := a.takeDown(ctx, n, true); err != nil {
		a.log.Error("failed install left node files behind; drop the node", "instance", n.InstanceID,
			"node", n.NodeID, "error", err)
	}
	if err := a.slots.Remove(n.InstanceID, n.NodeID); err != nil {
		a.log.Error("failed install left a key slot behind; drop it", "instance", n.InstanceID,
			"node", n.NodeID, "error", err)
	}
}

// wrapNew wraps dek under in.RootKeyID and writes the node's slot.
func (a *Agent) wrapNew(ctx context.Context, n nodeRef, in contract.InstallKeyInput,
	dek *encryption.DataKey) (Slot, error) {
	const op = "install key"
	kcv, err := dek.CheckValue()
	if err != nil {
		return Slot{}, fmt.Errorf("%s of node %s of instance %s: %w", op, n.NodeID, n.InstanceID, err)
	}
	heartbeat(ctx, "wrap")
	slot := Slot{InstanceID: n.InstanceID, NodeID: n.NodeID, RootKeyID: in.RootKeyID,
		KPInstanceID: in.KPInstanceID, AAD: in.AAD, CheckValue: kcv}
	wk, err := a.wrapKey(ctx, in.KPInstanceID, in.RootKeyID, dek, in.AAD)
	if err != nil {
		return Slot{}, a.fail(op, n, slot, err)
	}
	if wk.KeyVersion == "" || len(wk.Ciphertext) == 0 {
		return Slot{}, fmt.Errorf("%s of node %s of instance %s: Key Protect returned no key "+
			"version or ciphertext for root key %s", op, n.NodeID, n.InstanceID, in.RootKeyID)
	}
	slot.KeyVersionID, slot.WrappedDEK = wk.KeyVersion, wk.Ciphertext
	slot.CreatedAt = a.now().UTC()
	slot.UpdatedAt = slot.CreatedAt
	heartbeat(ctx, "save key slot")
	if err := a.slots.Save(slot); err != nil {
		return Slot{}, fmt.Errorf("%s of node %s of instance %s: %w", op, n.NodeID, n.InstanceID, err)
	}
	return slot, nil
}
