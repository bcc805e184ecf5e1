package activities

import (
	"context"
	"fmt"
	"net/http"

	kp "github.com/IBM/keyprotect-go-client"
	"go.temporal.io/sdk/activity"

	"github.com/byokflow/byokflow/contract"
)

// Key Protect reason codes of a refused key deletion (spec section 2.10).
const (
	codeProtectedResource = "PROTECTED_RESOURCE_ERR"
	codePrevKeyDel        = "PREV_KEY_DEL_ERR"
	codeAuthorizationsNot = "AUTHORIZATIONS_NOT_MET"
)

// GetKeyState reads a root key's state with the operator identity: its
// state (a destroyed key is still readable), current version, whether it
// was imported, whether its deletion needs dual authorization, and when it
// was deleted.
func (a *Activities) GetKeyState(ctx context.Context, in contract.GetKeyStateInput) (contract.RootKeyState, error) {
	op := a.operatorOp(in.KPInstanceID, "read state of root key", in.RootKeyID)
	keys, err := a.keysFor(in.KPInstanceID, op.subject())
	if err != nil {
		return contract.RootKeyState{}, err
	}
	key, err := keys.GetKeyMetadata(ctx, in.RootKeyID)
	if err != nil {
		return contract.RootKeyState{}, classifyKP(err, op)
	}
	return rootKeyState(in.RootKeyID, key), nil
}

func rootKeyState(id string, key *kp.Key) contract.RootKeyState {
	s := contract.RootKeyState{RootKeyID: id, State: key.State, StateName: stateName(key.State), Imported: key.Imported}
	if key.KeyVersion != nil {
		s.KeyVersionID = key.KeyVersion.ID
	}
	if d := key.DualAuthDelete; d != nil && d.Enabled != nil {
		s.DualAuthDelete = *d.Enabled
	}
	if key.DeletionDate != nil {
		s.DeletionDate = key.DeletionDate.UTC()
	}
	if key.DeletedBy != nil {
		s.DeletedBy = *key.DeletedBy
	}
	return s
}

// DeleteRootKey deletes the root key with the operator identity. When
// Key Protect refuses because registrations remain, it lists them again:
// when they are only this instance's and those of byokflow instances that
// are gone it deletes with force; any other fails ForeignRegistrations
// (one may have been added since the workflow's guards ran). A key already
// deleted is success (AlreadyDeleted), also when the deletion is retried
// after its answer was lost and Key Protect answers 404 or 410: the key's
// metadata says Destroyed, and the result carries its deletion date and
// deleter. A dual-auth key that no second user authorized fails with the
// retryable DualAuthPending, so the workflow's retry policy waits for the
// authorization. A registration with a retention policy fails
// KeyDeletionBlocked.
func (a *Activities) DeleteRootKey(ctx context.Context, in contract.DeleteRootKeyInput) (contract.DeleteRootKeyResult, error) {
	var res contract.DeleteRootKeyResult
	op := a.operatorOp(in.KPInstanceID, "delete root key", in.RootKeyID)
	keys, err := a.keysFor(in.KPInstanceID, op.subject())
	if err != nil {
		return res, err
	}
	key, err := keys.DeleteKey(ctx, in.RootKeyID, kp.ReturnRepresentation)
	if f, ok := kpFailureOf(err); ok && f.has(codeProtectedResource) {
		use := keyUse{instanceID: in.InstanceID, crn: in.InstanceCRN, rootKeyID: in.RootKeyID, kpInstanceID: in.KPInstanceID}
		if _, err := a.checkRegistrations(ctx, use); err != nil {
			return res, err
		}
		res.Forced = true
		key, err = keys.DeleteKey(ctx, in.RootKeyID, kp.ReturnRepresentation, kp.ForceOpt{Force: true})
	}
	f, isKP := kpFailureOf(err)
	switch {
	case isKP && (f.status == http.StatusGone || f.status == http.StatusNotFound):
		// A retry after a deletion whose answer was lost: report what Key
		// Protect holds, a destroyed key (with who deleted it and when),
		// not the refusal of the retry.
		if key, err = destroyedKey(ctx, keys, in.RootKeyID, op, err); err != nil {
			return res, err
		}
		res.AlreadyDeleted = true
	case isKP && f.has(codeAuthorizationsNot):
		return res, dualAuthPending(op, f, attemptOf(ctx))
	case isKP && f.has(codePrevKeyDel):
		return res, deletionBlocked(op, f)
	case err != nil:
		return res, classifyKP(err, op)
	}
	if key != nil {
		s := rootKeyState(in.RootKeyID, key)
		res.DeletionDate, res.DeletedBy = s.DeletionDate, s.DeletedBy
	}
	return res, a.auditOrRetry(ctx, op.subject(), auditEntry{actor: in.RequestedBy, operation: "key.delete",
		instanceID: in.InstanceID, rootKeyID: in.RootKeyID, detail: map[string]any{
			"forced": res.Forced, "alreadyDeleted": res.AlreadyDeleted}})
}

// destroyedKey reads the metadata of a key whose deletion Key Protect
// refused with 404 or 410 (refusal): a key in state Destroyed is returned,
// anything else fails as the refusal classifies (KeyNotFound, ...).
func destroyedKey(ctx context.Context, keys KeyAdmin, keyID string, op kpOp, refusal error) (*kp.Key, error) {
	key, err := keys.GetKeyMetadata(ctx, keyID)
	if err == nil && key.State == int(kp.Destroyed) {
		return key, nil
	}
	if f, ok := kpFailureOf(refusal); ok && f.status == http.StatusGone {
		// 410 is Key Protect's own word that the key is deleted.
		return nil, nil
	}
	return nil, classifyKP(refusal, op)
}

// dualAuthPending is the retryable error of a dual-auth key whose deletion
// no second user authorized yet, on the deletion's attempt-th attempt: it
// asks Temporal to wait a while before the next (contract.NewDualAuthPending).
func dualAuthPending(op kpOp, f kpFailure, attempt int32) error {
	msg := fmt.Sprintf("%s: waiting for the second authorization of the key deletion (%s): a second user "+
		"with Manager on Key Protect instance %s must approve it (`ibmcloud kp key schedule-delete %s`, "+
		"which sets the key for deletion); byokflow keeps retrying until then",
		op.subject(), f, op.instance, op.keyID)
	return contract.NewDualAuthPending(msg, attempt)
}

// attemptOf is the attempt of the activity ctx runs, 1 outside one.
func attemptOf(ctx context.Context) int32 {
	if !activity.IsActivity(ctx) {
		return 1
	}
	return activity.GetInfo(ctx).Attempt
}

// deletionBlocked is the error of a key protecting a resource with a
// retention policy: even force does not delete it.
func deletionBlocked(op kpOp, f kpFailure) error {
	msg := fmt.Sprintf("%s: Key Protect refuses the deletion (%s): a resource registered with the key has a "+
		"retention policy (preventKeyDeletion): list them with `ibmcloud kp registrations -k %s`, have an "+
		"account owner remove the retention policy, then run the crypto-shred again to finish it",
		op.subject(), f, op.keyID)
	return contract.NewError(contract.ErrTypeKeyDeletionBlocked, msg, nil)
}
