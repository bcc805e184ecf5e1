package activities

import (
	"context"
	"net/http"
	"strings"

	"github.com/byokflow/byokflow/contract"
)

// codeRegExists is the emulator's code for a registration that exists. The
// real service's code is not documented, so a 409 counts as "exists"
// unless its code names another conflict.
const codeRegExists = "REGISTRATION_EXISTS_ERR"

// RegisterInstance registers the instance CRN with the root key, with the
// service identity, so that Key Protect lists the instance among the
// resources the key protects. A registration that already exists is
// success. Fails ServiceNotAuthorized when the IAM authorization policy is
// missing, KeyNotFound, NotRootKey or KeyNotActive.
func (a *Activities) RegisterInstance(ctx context.Context, in contract.RegisterInstanceInput) error {
	op := a.serviceOp(in.KPInstanceID, "register instance "+in.InstanceCRN+" with root key", in.RootKeyID)
	registrar, err := a.registrarFor(in.KPInstanceID, op.subject())
	if err != nil {
		return err
	}
	err = registrar.CreateRegistration(ctx, in.RootKeyID, in.InstanceCRN, "byokflow instance "+instanceOfCRN(in.InstanceCRN))
	if f, ok := kpFailureOf(err); ok && f.status == http.StatusConflict && registrationExists(f) {
		return nil
	}
	return classifyKP(err, op)
}

// DeregisterInstance removes the registration of the instance CRN from
// the root key, with the service identity. A registration (or key) that
// does not exist is success.
func (a *Activities) DeregisterInstance(ctx context.Context, in contract.DeregisterInstanceInput) error {
	op := a.serviceOp(in.KPInstanceID, "deregister instance "+in.InstanceCRN+" from root key", in.RootKeyID)
	registrar, err := a.registrarFor(in.KPInstanceID, op.subject())
	if err != nil {
		return err
	}
	err = registrar.DeleteRegistration(ctx, in.RootKeyID, in.InstanceCRN)
	if f, ok := kpFailureOf(err); ok && f.status == http.StatusNotFound {
		return nil
	}
	return classifyKP(err, op)
}

// registrationExists reports whether a 409 on create means "already
// registered" rather than another conflict such as the key's state.
func registrationExists(f kpFailure) bool {
	return f.has(codeRegExists) || strings.Contains(strings.ToLower(f.msg), "already exists") ||
		!(f.has(codeInvalidState) || f.has(codeRegInvalidState) || f.has(codeTooEarly))
}

// serviceOp describes a call made with the service identity.
func (a *Activities) serviceOp(kpInstanceID, verb, keyID string) kpOp {
	op := a.operatorOp(kpInstanceID, verb, keyID)
	op.service = true
	return op
}

// instanceOfCRN is the resource segment of a CRN (the 8th field), for
// descriptions; the whole CRN when it has no such field.
func instanceOfCRN(crn string) string {
	if parts := strings.Split(crn, ":"); len(parts) >= 8 && parts[7] != "" {
		return parts[7]
	}
	return crn
}
