package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// access is what a Key Protect route needs from its caller.
type access int

const (
	accRead     access = iota + 1 // get, list, versions, policies, registrations
	accCrypto                     // wrap, unwrap, rewrap
	accWrite                      // create, rotate, create alias
	accManage                     // delete, restore, purge, disable, enable, policies, rings
	accRegister                   // registration create, update, delete: services only
	accAudit                      // the activity record: users only
)

// Service roles on a Key Protect instance, weakest first.
var roleRank = map[string]int{"Reader": 1, "ReaderPlus": 2, "Writer": 3, "Manager": 4}

func roleAllows(role string, need access) bool {
	switch need {
	case accRead, accCrypto, accAudit:
		return roleRank[role] >= 1
	case accWrite:
		return roleRank[role] >= roleRank["Writer"]
	case accManage:
		return roleRank[role] >= roleRank["Manager"]
	}
	return false
}

// kpCtx is one authenticated Key Protect request.
type kpCtx struct {
	w     http.ResponseWriter
	r     *http.Request
	rt    route
	c     *claims
	inst  string   // Bluemix-Instance
	args  []string // path parameters
	body  []byte
	ident *identity // set by checkAccess
	role  string    // the user's role on the instance; "" for services
	keyID string    // the key resolved or created, for the activity record
}

// bearer verifies the Authorization header.
func (s *Server) bearer(r *http.Request) (*claims, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "bearer ")
	}
	if !ok || tok == "" {
		return nil, errBadToken
	}
	return s.tokens.verify(strings.TrimSpace(tok), s.tokenNow())
}

func (s *Server) serveKP(w *statusWriter, r *http.Request, rt route) {
	k := &kpCtx{w: w, r: r, rt: rt, args: rt.args, inst: r.Header.Get("Bluemix-Instance")}
	e := s.prepareKP(k)
	if e == nil {
		e = rt.kp(s, k)
	}
	if k.c != nil {
		w.iamID = k.c.IAMID
	}
	w.keyID = k.keyID
	if e != nil {
		w.reason = e.code
		writeKPError(w, e, rt.what)
	}
}

func (s *Server) prepareKP(k *kpCtx) *apiError {
	if k.rt.op == OpNotImplemented {
		return nil
	}
	c, err := s.bearer(k.r)
	if err != nil {
		return unauthorized()
	}
	k.c = c
	body, err := readBody(k.r)
	if errors.Is(err, errTooLarge) {
		return newErr(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "The request body must be at most 1 MiB")
	}
	if err != nil {
		return badBody("body could not be read")
	}
	k.body = body
	return nil
}

// checkAccess decides whether the caller may run the route on the
// instance (and key, for key-scoped authorization policies). The caller
// holds s.mu.
func (s *Server) checkAccess(k *kpCtx, keyID string) *apiError {
	ident := s.st.Identities[k.c.IAMID]
	if ident == nil {
		return unauthorized()
	}
	k.ident = ident
	if k.inst == "" {
		e := newErr(http.StatusBadRequest, codeInvalidField, "The header 'Bluemix-Instance' must be: the ID of a Key Protect instance")
		e.target = &errTarget{Type: "header", Name: "Bluemix-Instance"}
		return e
	}
	inst := s.st.Instances[k.inst]
	if inst == nil {
		return unauthorized()
	}
	if ident.Kind == kindService {
		return s.checkService(ident, inst, k.rt.need, keyID)
	}
	return s.checkUser(k, ident, inst)
}

func (s *Server) checkUser(k *kpCtx, ident *identity, inst *instance) *apiError {
	if inst.AccountID != ident.AccountID {
		return unauthorized()
	}
	if k.rt.need == accRegister {
		return newErr(http.StatusForbidden, codeServiceOnly, "This action can only be done by a service (service to service)")
	}
	k.role = s.userRole(ident, inst)
	if !roleAllows(k.role, k.rt.need) {
		msg := fmt.Sprintf("The user %s has no role on Key Protect instance %s that allows this action", ident.IAMID, inst.ID)
		if k.role != "" {
			msg = fmt.Sprintf("The role %s of user %s on Key Protect instance %s does not allow this action", k.role, ident.IAMID, inst.ID)
		}
		return newErr(http.StatusForbidden, codeInsufficientRole, msg)
	}
	return nil
}

func (s *Server) checkService(ident *identity, inst *instance, need access, keyID string) *apiError {
	if need == accAudit {
		return newErr(http.StatusForbidden, codeInsufficientRole,
			fmt.Sprintf("Service ID %s cannot read the activity record: only users with a role on the instance can", ident.IAMID))
	}
	if need == accWrite || need == accManage {
		return newErr(http.StatusForbidden, codeInsufficientRole,
			fmt.Sprintf("Service ID %s cannot administer keys: only wrap, unwrap, rewrap, reads and registrations are allowed to services", ident.IAMID))
	}
	if !s.serviceAuthorized(ident, inst, keyID) {
		return newErr(http.StatusForbidden, codeUnauthorizedService, fmt.Sprintf(
			"No IAM authorization policy allows service '%s' to use Key Protect instance %s: "+
				"create one with source service '%s' in account %s, target service 'kms' instance %s, role Reader",
			ident.ServiceName, inst.ID, ident.ServiceName, inst.AccountID, inst.ID))
	}
	return nil
}

// canSeePayload reports whether the caller may read standard key material.
func (k *kpCtx) canSeePayload() bool { return roleRank[k.role] >= roleRank["ReaderPlus"] }

// accessKey checks access and resolves the key named by the first path
// parameter; access is checked first so a denied caller learns nothing.
func (s *Server) accessKey(k *kpCtx) (*key, *apiError) {
	kk := s.st.lookupKey(k.inst, k.args[0])
	id := k.args[0]
	if kk != nil {
		id = kk.ID
	}
	k.keyID = id
	if e := s.checkAccess(k, id); e != nil {
		return nil, e
	}
	if kk == nil || s.autoPurged(kk) {
		return nil, keyNotFound()
	}
	return kk, nil
}
