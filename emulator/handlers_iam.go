package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// iamRoute maps /v1/... (segments after v1).
func iamRoute(method string, p []string) route {
	rt := route{kind: kindIAM}
	switch {
	case len(p) == 2 && p[0] == "apikeys" && p[1] == "details" && method == http.MethodGet:
		rt.op, rt.raw = OpAPIKeyDetails, serveAPIKeyDetails
	case len(p) == 1 && p[0] == "policies" && method == http.MethodPost:
		rt.op, rt.raw = OpIAMCreatePolicy, serveCreatePolicy
	case len(p) == 1 && p[0] == "policies" && method == http.MethodGet:
		rt.op, rt.raw = OpIAMListPolicies, serveListPolicies
	case len(p) == 2 && p[0] == "policies" && method == http.MethodGet:
		rt.op, rt.raw, rt.args = OpIAMGetPolicy, serveGetPolicy, p[1:]
	case len(p) == 2 && p[0] == "policies" && method == http.MethodDelete:
		rt.op, rt.raw, rt.args = OpIAMDeletePolicy, serveDeletePolicy, p[1:]
	default:
		rt.op, rt.raw = OpNotImplemented, serveIAMNotImplemented
	}
	return rt
}

func serveIAMNotImplemented(_ *Server, w http.ResponseWriter, r *http.Request, _ []string) {
	writeIAMError(w, http.StatusNotImplemented, "not_implemented", "The emulator does not implement "+r.Method+" "+r.URL.Path)
}

// iamCaller authenticates a /v1 request and returns its identity, or
// writes the error. The caller holds s.mu.
func (s *Server) iamCaller(w http.ResponseWriter, r *http.Request, write bool) *identity {
	c, err := s.bearer(r)
	var ident *identity
	if err == nil {
		ident = s.st.Identities[c.IAMID]
	}
	if ident == nil {
		writeIAMError(w, http.StatusUnauthorized, "invalid_token", "The provided token is invalid or expired")
		return nil
	}
	if write && ident.Kind != kindUser {
		writeIAMError(w, http.StatusForbidden, "insufficent_permissions", "Service IDs cannot manage policies in the emulator")
		return nil
	}
	return ident
}

func serveCreatePolicy(s *Server, w http.ResponseWriter, r *http.Request, _ []string) {
	body, err := readBody(r)
	if err != nil {
		writeIAMError(w, http.StatusRequestEntityTooLarge, "invalid_body", "The request body must be at most 1 MiB")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ident := s.iamCaller(w, r, true)
	if ident == nil {
		return
	}
	p, err := s.newPolicy(body, ident)
	if err != nil {
		writeIAMError(w, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}
	if acct, _ := p.parsed.resource.get("accountId"); acct != ident.AccountID {
		writeIAMError(w, http.StatusForbidden, "insufficent_permissions", "Policies can only be created in the caller's account "+ident.AccountID)
		return
	}
	if dup := s.duplicatePolicy(p); dup != nil {
		writeIAMErrorDetails(w, http.StatusConflict, "policy_conflict_error", "Failed to create policy: a policy with the same subject and resource exists: "+dup.ID,
			map[string]any{"conflicts_with": map[string]any{"etag": policyETag(dup), "policy": s.renderPolicy(r, dup)}})
		return
	}
	if s.closed {
		writeIAMError(w, http.StatusServiceUnavailable, "service_unavailable", "The emulator has been closed")
		return
	}
	s.st.Policies[p.ID] = p
	if e := s.commit(); e != nil {
		writeIAMError(w, http.StatusInternalServerError, "internal_error", "The emulator could not save its state")
		return
	}
	w.Header().Set("ETag", policyETag(p))
	writeJSON(w, http.StatusCreated, s.renderPolicy(r, p))
}

// newPolicy validates a create body and builds the policy.
func (s *Server) newPolicy(body []byte, ident *identity) (*iamPolicy, error) {
	var req policyReq
	if !bodyPresent(body) || json.Unmarshal(body, &req) != nil {
		return nil, errors.New("the body must be a policy JSON object")
	}
	parsed, err := parsePolicyParts(req.Subjects, req.Resources)
	if err != nil {
		return nil, err
	}
	if err := validatePolicy(req.Type, parsed); err != nil {
		return nil, err
	}
	if len(req.Roles) == 0 {
		return nil, errors.New("roles must hold at least one role")
	}
	now := s.now()
	p := &iamPolicy{ID: newUUID(), AccountID: ident.AccountID, Type: req.Type, Description: req.Description,
		Subjects: compactJSON(req.Subjects), Resources: compactJSON(req.Resources),
		CreatedBy: ident.IAMID, Created: now, UpdatedBy: ident.IAMID, Updated: now, parsed: parsed}
	for _, role := range req.Roles {
		if _, ok := roleName(role.RoleID); !ok {
			return nil, fmt.Errorf("role_id %q is not a role CRN such as crn:v1:bluemix:public:iam::::serviceRole:Reader", role.RoleID)
		}
		p.RoleIDs = append(p.RoleIDs, role.RoleID)
	}
	return p, nil
}

// duplicatePolicy finds an active policy with the same type, subject and
// resource in the same account.
func (s *Server) duplicatePolicy(p *iamPolicy) *iamPolicy {
	for _, q := range s.st.Policies {
		if q.AccountID == p.AccountID && q.Type == p.Type &&
			q.parsed.subject.canonical() == p.parsed.subject.canonical() &&
			q.parsed.resource.canonical() == p.parsed.resource.canonical() {
			return q
		}
	}
	return nil
}

func (s *Server) renderPolicy(r *http.Request, p *iamPolicy) policyJSON {
	j := policyJSON{ID: p.ID, Type: p.Type, Description: p.Description, Subjects: p.Subjects,
		Resources: p.Resources, Href: baseURL(r) + "/v1/policies/" + p.ID,
		CreatedAt: iamTime(p.Created), CreatedByID: p.CreatedBy,
		LastModifiedAt: iamTime(p.Updated), LastModifiedByID: p.UpdatedBy, State: "active"}
	for _, id := range p.RoleIDs {
		j.Roles = append(j.Roles, renderRole(id))
	}
	return j
}

func policyETag(p *iamPolicy) string {
	h := sha256.Sum256(bytes.Join([][]byte{[]byte(p.ID), []byte(p.Updated.String())}, []byte{0}))
	return `W/"1-` + hex.EncodeToString(h[:12]) + `"`
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func serveGetPolicy(s *Server, w http.ResponseWriter, r *http.Request, args []string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ident := s.iamCaller(w, r, false)
	if ident == nil {
		return
	}
	p := s.st.Policies[args[0]]
	if p == nil || p.AccountID != ident.AccountID {
		writeIAMError(w, http.StatusNotFound, "policy_not_found", "Policy with ID "+args[0]+" not found")
		return
	}
	w.Header().Set("ETag", policyETag(p))
	writeJSON(w, http.StatusOK, s.renderPolicy(r, p))
}

func serveDeletePolicy(s *Server, w http.ResponseWriter, r *http.Request, args []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ident := s.iamCaller(w, r, true)
	if ident == nil {
		return
	}
	p := s.st.Policies[args[0]]
	if p == nil || p.AccountID != ident.AccountID {
		writeIAMError(w, http.StatusNotFound, "policy_not_found", "Policy with ID "+args[0]+" not found")
		return
	}
	if s.closed {
		writeIAMError(w, http.StatusServiceUnavailable, "service_unavailable", "The emulator has been closed")
		return
	}
	delete(s.st.Policies, p.ID)
	if e := s.commit(); e != nil {
		writeIAMError(w, http.StatusInternalServerError, "internal_error", "The emulator could not save its state")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
