package activities

import (
	"context"

	kp "github.com/IBM/keyprotect-go-client"
)

// Every Key Protect call that changes something (rotate, delete a key,
// create or delete a registration) made by a control-plane activity is an
// audit event of its own: operation "kp.<action>" (action as Key
// Protect's activity record names it), the key, the IAM id the call was
// made with and the workflow run's correlation id (audit adds it), and its
// outcome. So byokflow's audit and Key Protect's record of the same call
// can be compared one to one (`starter audit`). Reads are not audited.
// The clients of kpClients are wrapped here, so no activity has to
// remember it.

// Key Protect actions, as its activity record names them.
const (
	kpActionRotate             = "rotate"
	kpActionDeleteKey          = "delete_key"
	kpActionCreateRegistration = "create_registration"
	kpActionDeleteRegistration = "delete_registration"
)

// kpCall is one audited Key Protect call.
type kpCall struct {
	action, kpInstance, keyID string
	service                   bool // made with the service identity
	detail                    map[string]any
}

// recordKPCall appends the audit event of call, which returned callErr,
// and returns callErr. When the event cannot be stored after a call that
// succeeded, the activity fails retryably: its retry finds the call's
// effect (every audited activity is idempotent) and records it then.
// Activities without a catalog (tier-2 tests) record nothing.
func (a *Activities) recordKPCall(ctx context.Context, call kpCall, callErr error) error {
	if a.catalog == nil {
		return callErr
	}
	detail := map[string]any{"kpInstanceId": call.kpInstance, "outcome": "success"}
	for k, v := range call.detail {
		detail[k] = v
	}
	if callErr != nil {
		detail["outcome"] = "failure"
		if f, ok := kpFailureOf(callErr); ok {
			detail["status"] = f.status
			detail["reasons"] = f.codes
		}
	}
	iamID, err := a.iamID(call.service)
	if err == nil {
		err = a.audit(ctx, auditEntry{operation: "kp." + call.action, rootKeyID: call.keyID, iamID: iamID,
			detail: detail, everyCall: true})
	}
	if callErr != nil || err == nil {
		return callErr
	}
	return err
}

// iamID is the IAM id of the operator's or the service's identity, or ""
// when the activities were built without a way to learn it.
func (a *Activities) iamID(service bool) (string, error) {
	if a.iamIDs == nil {
		return "", nil
	}
	return a.iamIDs(service)
}

// auditedKeys is the operator's Key Protect client of one instance, with
// its state-changing calls audited.
type auditedKeys struct {
	KeyAdmin
	a          *Activities
	kpInstance string
}

func (k auditedKeys) RotateV2(ctx context.Context, idOrAlias string, newKey *kp.KeyPayload) error {
	err := k.KeyAdmin.RotateV2(ctx, idOrAlias, newKey)
	return k.a.recordKPCall(ctx, kpCall{action: kpActionRotate, kpInstance: k.kpInstance, keyID: idOrAlias}, err)
}

func (k auditedKeys) DeleteKey(ctx context.Context, idOrAlias string, prefer kp.PreferReturn,
	callOpts ...kp.CallOpt) (*kp.Key, error) {
	key, err := k.KeyAdmin.DeleteKey(ctx, idOrAlias, prefer, callOpts...)
	force := false
	for _, o := range callOpts {
		if f, ok := o.(kp.ForceOpt); ok {
			force = f.Force
		}
	}
	call := kpCall{action: kpActionDeleteKey, kpInstance: k.kpInstance, keyID: idOrAlias,
		detail: map[string]any{"force": force}}
	return key, k.a.recordKPCall(ctx, call, err)
}

// auditedRegistrar is the service's registrar of one instance, audited.
type auditedRegistrar struct {
	Registrar
	a          *Activities
	kpInstance string
}

func (r auditedRegistrar) CreateRegistration(ctx context.Context, keyID, resourceCRN, description string) error {
	err := r.Registrar.CreateRegistration(ctx, keyID, resourceCRN, description)
	return r.a.recordKPCall(ctx, r.call(kpActionCreateRegistration, keyID, resourceCRN), err)
}

func (r auditedRegistrar) DeleteRegistration(ctx context.Context, keyID, resourceCRN string) error {
	err := r.Registrar.DeleteRegistration(ctx, keyID, resourceCRN)
	return r.a.recordKPCall(ctx, r.call(kpActionDeleteRegistration, keyID, resourceCRN), err)
}

func (r auditedRegistrar) call(action, keyID, crn string) kpCall {
	return kpCall{action: action, kpInstance: r.kpInstance, keyID: keyID, service: true,
		detail: map[string]any{"resourceCrn": crn}}
}
