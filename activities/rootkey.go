package activities

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/byokflow/byokflow/contract"
)

// ValidateRootKey checks, with the operator identity, that the key exists
// in the Key Protect instance, is a root key and is Active, and returns its
// current version, name, CRN and whether it was imported (generated and
// imported root keys alike are accepted). It fails KeyNotFound (also for a key of
// another instance, which Key Protect does not show here), NotRootKey, or
// KeyNotActive naming the key's state and what to do.
func (a *Activities) ValidateRootKey(ctx context.Context, in contract.ValidateRootKeyInput) (contract.ValidateRootKeyResult, error) {
	var res contract.ValidateRootKeyResult
	const verb = "validate root key"
	kpInstance, err := a.kpInstance(in.KPInstanceID, verb+" "+in.RootKeyID)
	if err != nil {
		return res, err
	}
	op := a.operatorOp(kpInstance, verb, in.RootKeyID)
	keys, err := a.keysFor(kpInstance, op.subject())
	if err != nil {
		return res, err
	}
	key, err := keys.GetKeyMetadata(ctx, in.RootKeyID)
	if err != nil {
		return res, classifyKP(err, op)
	}
	if key.Extractable {
		msg := fmt.Sprintf("%s in Key Protect instance %s: %q is a standard key: BYOK needs a root key: "+
			"create or import a root key and provision with its id", op.subject(), kpInstance, key.Name)
		return res, contract.NewError(contract.ErrTypeNotRootKey, msg, nil)
	}
	if err := checkActive(key, op); err != nil {
		return res, err
	}
	version, err := currentVersion(key, op)
	if err != nil {
		return res, err
	}
	return contract.ValidateRootKeyResult{KeyVersionID: version, KeyName: key.Name, KeyCRN: key.CRN,
		Imported: key.Imported}, nil
}

// operatorOp describes a call made with the operator identity on Key
// Protect instance kpInstanceID (empty: the default instance).
func (a *Activities) operatorOp(kpInstanceID, verb, keyID string) kpOp {
	return kpOp{verb: verb, keyID: keyID, instance: cmp.Or(kpInstanceID, a.cfg.KPInstanceID),
		serviceName: a.cfg.ServiceName, accountID: a.cfg.AccountID}
}

// stateNames are Key Protect's key states (spec section 3.1).
var stateNames = map[int]string{0: "Pre-activation", int(kp.Active): "Active", int(kp.Suspended): "Suspended",
	int(kp.Deactivated): "Deactivated", int(kp.Destroyed): "Destroyed"}

// stateAdvice says what to do about a key in a state other than Active.
var stateAdvice = map[int]string{
	int(kp.Suspended): "it was disabled: enable it (`ibmcloud kp key enable KEY_ID`), then retry",
	int(kp.Deactivated): "it expired, which is irreversible: choose another root key " +
		"(or, for an instance that uses it, rotate to bring nodes to a new key version)",
	int(kp.Destroyed): "it was deleted: restore it within 30 days of the deletion " +
		"(`ibmcloud kp key restore KEY_ID`), or choose another root key",
}

// stateName renders a key state for messages.
func stateName(state int) string {
	if n, ok := stateNames[state]; ok {
		return n
	}
	return fmt.Sprintf("state %d", state)
}

// checkActive fails KeyNotActive unless the key is Active, naming its state.
func checkActive(key *kp.Key, op kpOp) error {
	if key.State == int(kp.Active) {
		return nil
	}
	msg := fmt.Sprintf("%s in Key Protect instance %s: the key is %s, not Active: %s",
		op.subject(), op.instance, stateName(key.State), adviceFor(key.State, op.keyID))
	return contract.NewError(contract.ErrTypeKeyNotActive, msg, nil)
}

// adviceFor says what to do about a key of keyID in state.
func adviceFor(state int, keyID string) string {
	a, ok := stateAdvice[state]
	if !ok {
		a = "check it with `ibmcloud kp key show KEY_ID`"
	}
	return strings.ReplaceAll(a, "KEY_ID", keyID)
}

// currentVersion is the id of the key's latest version.
func currentVersion(key *kp.Key, op kpOp) (string, error) {
	if key.KeyVersion == nil || key.KeyVersion.ID == "" {
		return "", fmt.Errorf("%s in Key Protect instance %s: Key Protect returned no key version", op.subject(), op.instance)
	}
	return key.KeyVersion.ID, nil
}
