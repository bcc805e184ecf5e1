package node

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
)

// errCheckValueMismatch: the KMS unwrapped a DEK whose check value differs
// from the one the slot recorded.
var errCheckValueMismatch = errors.New("unwrapped DEK does not match the key slot's check value")

// rewrapHint is the detail of a rewrap_required report.
const rewrapHint = "root key has a newer version than this key slot's: " +
	"run `starter rotate --rewrap-only` for the instance"

// load makes sure node n's DEK is in memory, unwrapping slot's wrapped DEK
// with the service identity if it is not, and returns the live key. Its
// errors are the KeyWrapper's, or errCheckValueMismatch.
func (a *Agent) load(ctx context.Context, n nodeRef, slot Slot) (liveKey, error) {
	if k, ok := a.keys.get(n); ok {
		return k, nil
	}
	heartbeat(ctx, "unwrap")
	w, err := a.wrapperFor(slot.KPInstanceID)
	if err != nil {
		return liveKey{}, err
	}
	dek, rewrapped, err := w.UnwrapKey(ctx, slot.Wrapped(), slot.AAD)
	if err != nil {
		return liveKey{}, err
	}
	if err := matchCheckValue(dek, slot); err != nil {
		return liveKey{}, err
	}
	k := liveKey{dek: dek, rewrapPending: rewrapped != nil}
	a.keys.put(n, k)
	a.log.Info("DEK unwrapped into memory", "instance", n.InstanceID, "node", n.NodeID,
		"root_key", slot.RootKeyID, "key_version", slot.KeyVersionID, "check_value", slot.CheckValue)
	return k, nil
}

// matchCheckValue checks that dek is the key slot's DEK; if not, it
// destroys dek and returns errCheckValueMismatch.
func matchCheckValue(dek *encryption.DataKey, slot Slot) error {
	kcv, err := dek.CheckValue()
	if err == nil && kcv != slot.CheckValue {
		err = errCheckValueMismatch
	}
	if err != nil {
		dek.Destroy()
	}
	return err
}

// stateOf is the key state of a node whose DEK is in memory.
func stateOf(k liveKey) (contract.KeyState, string) {
	if k.rewrapPending {
		return contract.KeyRewrapRequired, rewrapHint
	}
	return contract.KeyActive, ""
}

// unlock makes sure node n's DEK is in memory and its storage unlocked
// under the key derived from it; a KeyWrapper error of op is classified
// (and a revoked key takes the node down, see fail).
func (a *Agent) unlock(ctx context.Context, op string, n nodeRef, slot Slot) (liveKey, error) {
	k, err := a.load(ctx, n, slot)
	if err != nil {
		return k, a.fail(op, n, slot, err)
	}
	return k, a.unlockStorage(n, k.dek)
}

// loadAndReport unlocks node n and reports its state under the slot's key
// version, or fails with the classified error.
func (a *Agent) loadAndReport(ctx context.Context, op string, n nodeRef, slot Slot) (contract.NodeReport, error) {
	k, err := a.unlock(ctx, op, n, slot)
	if err != nil {
		return contract.NodeReport{}, err
	}
	state, detail := stateOf(k)
	return a.report(ctx, n, slot, state, detail), nil
}

// checkSameKey fails with KeySlotConflict unless slot was made for rootKeyID
// and aad.
func checkSameKey(op string, n nodeRef, slot Slot, rootKeyID string, aad []string) error {
	if slot.RootKeyID == rootKeyID && slices.Equal(slot.AAD, aad) {
		return nil
	}
	return contract.NewError(contract.ErrTypeKeySlotConflict, fmt.Sprintf(
		"%s of node %s of instance %s: the node already holds a key slot under root key %s "+
			"(asked for %s, or with other AAD): drop the old key slot (it belongs to an earlier "+
			"instance of the same name) or choose another instance name",
		op, n.NodeID, n.InstanceID, slot.RootKeyID, rootKeyID), nil)
}

// detailOf is the message of err for a report's Detail, without the
// Temporal envelope.
func detailOf(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
