package emulator

import (
	"net/http"
	"time"
)

// Key policy types (spec §2.14).
const (
	policyRotation = "rotation"
	policyDualAuth = "dualAuthDelete"
)

func handleGetKeyPolicies(s *Server, k *kpCtx) *apiError {
	which := k.r.URL.Query().Get("policy")
	if which != "" && which != policyRotation && which != policyDualAuth {
		return queryErr("policy", "rotation or dualAuthDelete")
	}
	var out []keyPolicyJSON
	e := s.view(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		out = s.renderKeyPolicies(kk, which)
		return nil
	})
	if e != nil {
		return e
	}
	if len(out) == 0 { // the documented empty form: no resources at all
		writeJSON(k.w, http.StatusOK, collection{Metadata: collectionMeta{CollectionType: policyType}})
		return nil
	}
	writeCollection(k.w, http.StatusOK, policyType, out)
	return nil
}

func (s *Server) renderKeyPolicies(kk *key, which string) []keyPolicyJSON {
	var out []keyPolicyJSON
	if p := kk.Rotation; p != nil && (which == "" || which == policyRotation) {
		j := s.renderKeyPolicy(kk, p)
		j.Rotation = &rotationJSON{Enabled: p.Enabled, IntervalMonth: p.IntervalMonth}
		out = append(out, j)
	}
	if p := kk.DualAuth; p != nil && (which == "" || which == policyDualAuth) {
		j := s.renderKeyPolicy(kk, p)
		j.DualAuthDelete = &dualAuthJSON{Enabled: p.Enabled}
		out = append(out, j)
	}
	return out
}

func (s *Server) renderKeyPolicy(kk *key, p *keyPolicy) keyPolicyJSON {
	return keyPolicyJSON{ID: p.ID, CRN: s.policyCRN(kk, p.ID), Type: policyType,
		CreatedBy: p.CreatedBy, CreationDate: stamp(p.Created), UpdatedBy: p.UpdatedBy, LastUpdateDate: stamp(p.Updated)}
}

func handlePutKeyPolicies(s *Server, k *kpCtx) *apiError {
	which := k.r.URL.Query().Get("policy")
	if which != "" && which != policyRotation && which != policyDualAuth {
		return queryErr("policy", "rotation or dualAuthDelete")
	}
	var out []keyPolicyJSON
	e := s.update(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		reqs, e := parseKeyPolicies(k.body, which)
		if e != nil {
			return e
		}
		s.settle(kk)
		if e := allowed(opModify, kk.State); e != nil {
			return e
		}
		if e := s.applyKeyPolicies(kk, reqs, k.c.IAMID); e != nil {
			return e
		}
		for _, r := range reqs {
			out = append(out, s.renderKeyPolicies(kk, r.kind())...)
		}
		return nil
	})
	if e != nil {
		return e
	}
	writeCollection(k.w, http.StatusOK, policyType, out)
	return nil
}

func (r keyPolicyReq) kind() string {
	if r.Rotation != nil {
		return policyRotation
	}
	return policyDualAuth
}

// parseKeyPolicies checks the envelope: one or two policies of distinct
// kinds, matching the policy query when given.
func parseKeyPolicies(body []byte, which string) ([]keyPolicyReq, *apiError) {
	raws, e := parseEnvelope(body)
	if e != nil {
		return nil, e
	}
	if len(raws) == 0 || len(raws) > 2 || (which != "" && len(raws) != 1) {
		return nil, badBody("one rotation and at most one dualAuthDelete policy may be set per request")
	}
	seen := map[string]bool{}
	var out []keyPolicyReq
	for _, raw := range raws {
		var r keyPolicyReq
		if _, e := decodeJSON(raw, &r); e != nil {
			return nil, e
		}
		if (r.Rotation == nil) == (r.DualAuthDelete == nil) || seen[r.kind()] {
			return nil, badBody("each policy must hold exactly one of rotation or dualAuthDelete, each at most once")
		}
		if which != "" && r.kind() != which {
			return nil, newErr(http.StatusBadRequest, codeBodyQueryMismatch, "Data in body does not match data required by query parameter")
		}
		seen[r.kind()] = true
		out = append(out, r)
	}
	return out, nil
}

// parseEnvelope checks metadata and collectionTotal of a request envelope.
func parseEnvelope(body []byte) ([][]byte, *apiError) {
	var env inCollection
	present, e := decodeJSON(body, &env)
	if e != nil {
		return nil, e
	}
	if !present {
		return nil, noBody()
	}
	if env.Metadata == nil {
		return nil, badBody("CollectionMetadata is empty")
	}
	if env.Metadata.CollectionTotal != len(env.Resources) {
		return nil, collectionMismatch()
	}
	out := make([][]byte, len(env.Resources))
	for i, r := range env.Resources {
		out[i] = r
	}
	return out, nil
}

// applyKeyPolicies validates every policy, then sets them.
func (s *Server) applyKeyPolicies(kk *key, reqs []keyPolicyReq, by string) *apiError {
	for _, r := range reqs {
		if e := validateKeyPolicy(kk, r); e != nil {
			return e
		}
	}
	now := s.now()
	for _, r := range reqs {
		if r.Rotation != nil {
			kk.Rotation = upsertPolicy(kk.Rotation, enabledOr(r.Rotation.Enabled, true), r.Rotation.IntervalMonth, by, now)
		} else {
			kk.DualAuth = upsertPolicy(kk.DualAuth, enabledOr(r.DualAuthDelete.Enabled, true), nil, by, now)
		}
	}
	kk.Updated = now
	return nil
}

func validateKeyPolicy(kk *key, r keyPolicyReq) *apiError {
	if r.Rotation != nil {
		if kk.Extractable {
			return rootRequired()
		}
		return validInterval(r.Rotation.IntervalMonth, false)
	}
	if kk.DualAuth != nil && kk.DualAuth.Enabled && !enabledOr(r.DualAuthDelete.Enabled, true) {
		e := fieldErr("enabled", "true: a dual authorization policy cannot be disabled once enabled")
		e.target.Name = "dualAuthDelete.enabled"
		return e
	}
	return nil
}

func validInterval(months *int, required bool) *apiError {
	if (months == nil && required) || (months != nil && (*months < 1 || *months > 12)) {
		return fieldErr("interval_month", "an integer between 1 and 12")
	}
	return nil
}

func enabledOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// upsertPolicy updates p, or creates it; a missing interval keeps the
// previous one (or 1 month).
func upsertPolicy(p *keyPolicy, enabled bool, months *int, by string, now time.Time) *keyPolicy {
	if p == nil {
		p = &keyPolicy{ID: newUUID(), CreatedBy: by, Created: now, IntervalMonth: 1}
	}
	p.Enabled, p.UpdatedBy, p.Updated = enabled, by, now
	if months != nil {
		p.IntervalMonth = *months
	}
	return p
}

// applyCreatePolicies sets a new key's policies: the request's overrides
// (keys_with_policy_overrides), else the instance policies in effect.
func (s *Server) applyCreatePolicies(kk *key, inst *instance, req *keyCreateReq, overrides bool, by string) *apiError {
	now := s.now()
	if overrides && req.Rotation != nil {
		if kk.Extractable {
			return rootRequired()
		}
		if e := validInterval(req.Rotation.IntervalMonth, true); e != nil {
			return e
		}
		kk.Rotation = upsertPolicy(nil, enabledOr(req.Rotation.Enabled, true), req.Rotation.IntervalMonth, by, now)
	}
	if overrides && req.DualAuthDelete != nil {
		kk.DualAuth = upsertPolicy(nil, enabledOr(req.DualAuthDelete.Enabled, true), nil, by, now)
	}
	if p := inst.Policies[policyRotation]; kk.Rotation == nil && !kk.Extractable && p != nil && p.Enabled {
		kk.Rotation = upsertPolicy(nil, true, ptr(p.intervalMonth()), by, now)
	}
	if p := inst.Policies[policyDualAuth]; kk.DualAuth == nil && p != nil && p.Enabled {
		kk.DualAuth = upsertPolicy(nil, true, nil, by, now)
	}
	return nil
}
