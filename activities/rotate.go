package activities

import (
	"context"
	"fmt"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/byokflow/byokflow/contract"
)

// RotateKey rotates the root key in Key Protect only while its current
// version still equals in.FromVersionID, then returns the new version with
// Rotated set. A key already past FromVersionID (rotated by an earlier
// attempt, by a rotation policy or by hand) is not rotated again: its
// current version is returned with Rotated false. A rotate call that fails
// after which Key Protect shows the key past FromVersionID is this
// rotation's success (Rotated true): the client retries a POST whose
// answer was lost, and the retry is refused (RotationTooSoon) although the
// first try rotated. Fails RotationTooSoon
// when Key Protect refuses a second rotation within its interval,
// KeyMaterialRequired for an imported key (Key Protect rotates it only with
// new material, which never passes through here), KeySuspended or
// KeyDestroyed when the nodes could not rewrap anyway.
func (a *Activities) RotateKey(ctx context.Context, in contract.RotateKeyInput) (contract.RotateKeyResult, error) {
	var res contract.RotateKeyResult
	op := a.operatorOp(in.KPInstanceID, "rotate root key", in.RootKeyID)
	if in.FromVersionID == "" {
		msg := fmt.Sprintf("%s: no recorded key version to rotate from: run with --rewrap-only to bring "+
			"the nodes to the key's current version", op.subject())
		return res, contract.NewError(contract.ErrTypeInvalidInput, msg, nil)
	}
	keys, err := a.keysFor(in.KPInstanceID, op.subject())
	if err != nil {
		return res, err
	}
	current, err := usableVersion(ctx, keys, op)
	if err != nil || current != in.FromVersionID {
		return contract.RotateKeyResult{KeyVersionID: current}, err
	}
	rotateErr := keys.RotateV2(ctx, in.RootKeyID, nil)
	next, err := usableVersion(ctx, keys, op)
	if rotateErr != nil && (err != nil || next == in.FromVersionID) {
		return res, classifyKP(rotateErr, op)
	}
	if err != nil {
		return res, err
	}
	if next == in.FromVersionID {
		// The rotation happened; the next attempt sees the new version.
		return res, fmt.Errorf("%s: Key Protect still reports version %s after rotating", op.subject(), next)
	}
	return contract.RotateKeyResult{KeyVersionID: next, Rotated: true}, nil
}

// ReadKeyVersion returns the root key's current version, for a rewrap-only
// rotation. Fails like RotateKey for a key the nodes cannot rewrap under.
func (a *Activities) ReadKeyVersion(ctx context.Context, in contract.ReadKeyVersionInput) (contract.ReadKeyVersionResult, error) {
	op := a.operatorOp(in.KPInstanceID, "read key version of root key", in.RootKeyID)
	keys, err := a.keysFor(in.KPInstanceID, op.subject())
	if err != nil {
		return contract.ReadKeyVersionResult{}, err
	}
	version, err := usableVersion(ctx, keys, op)
	return contract.ReadKeyVersionResult{KeyVersionID: version}, err
}

// usableVersion reads the key's current version, failing KeySuspended or
// KeyDestroyed for a key that cannot wrap or unwrap. A Deactivated
// (expired) key can still be rotated and rewrapped under.
func usableVersion(ctx context.Context, keys KeyAdmin, op kpOp) (string, error) {
	key, err := keys.GetKeyMetadata(ctx, op.keyID)
	if err != nil {
		return "", classifyKP(err, op)
	}
	errType := ""
	switch key.State {
	case int(kp.Suspended):
		errType = contract.ErrTypeKeySuspended
	case int(kp.Destroyed):
		errType = contract.ErrTypeKeyDestroyed
	}
	if errType != "" {
		msg := fmt.Sprintf("%s in Key Protect instance %s: the key is %s: %s",
			op.subject(), op.instance, stateName(key.State), adviceFor(key.State, op.keyID))
		return "", contract.NewError(errType, msg, nil)
	}
	return currentVersion(key, op)
}
