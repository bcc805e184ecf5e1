package emulator

import (
	"net/http"
	"strings"
)

func handleCreateRegistration(s *Server, k *kpCtx) *apiError {
	var out registrationJSON
	e := s.update(func() *apiError {
		kk, crn, e := s.registrationTarget(k)
		if e != nil {
			return e
		}
		if kk.Extractable {
			return newErr(http.StatusUnprocessableEntity, codeRegRootRequired, "Requested action can only be completed with a root key")
		}
		if s.stateOf(kk) != stateActive {
			return newErr(http.StatusUnprocessableEntity, codeRegInvalidState, "Key is not in a valid state")
		}
		if kk.registration(crn) != nil {
			return conflict(codeRegExists, "A registration for resource "+crn+" already exists on this key")
		}
		req, e := parseRegistration(k.body)
		if e != nil {
			return e
		}
		r, e := s.newRegistration(kk, crn, req, k.c.IAMID)
		if e != nil {
			return e
		}
		kk.Registrations = append(kk.Registrations, r)
		out = renderRegistration(kk, r)
		return nil
	})
	if e != nil {
		return e
	}
	writeCollection(k.w, http.StatusCreated, registrationType, []registrationJSON{out})
	return nil
}

func (s *Server) newRegistration(kk *key, crn string, req *registrationReq, by string) (*registration, *apiError) {
	if req.PreventKeyDeletion == nil {
		return nil, fieldErr("preventKeyDeletion", "true or false")
	}
	version, e := registrationVersion(kk, "", req.KeyVersionID)
	if e != nil {
		return nil, e
	}
	if version == "" {
		version = kk.latest().ID
	}
	now := s.now()
	r := &registration{
		ResourceCRN: crn, PreventKeyDeletion: *req.PreventKeyDeletion, Metadata: compactJSON(req.RegistrationMetadata),
		KeyVersionID: version, CreatedBy: by, Created: now, UpdatedBy: by, Updated: now,
	}
	if req.Description != nil {
		r.Description = *req.Description
	}
	return r, nil
}

// registrationTarget resolves the key and the resource CRN of the path.
func (s *Server) registrationTarget(k *kpCtx) (*key, string, *apiError) {
	kk, e := s.accessKey(k)
	if e != nil {
		return nil, "", e
	}
	crn := k.args[1]
	if !strings.HasPrefix(crn, "crn:") {
		e := fieldErr("urlEncodedResourceCRN", "the URL-encoded CRN of a cloud resource")
		e.target.Type = "path_param"
		return nil, "", e
	}
	return kk, crn, nil
}

func handleUpdateRegistration(s *Server, k *kpCtx) *apiError  { return s.changeRegistration(k, false) }
func handleReplaceRegistration(s *Server, k *kpCtx) *apiError { return s.changeRegistration(k, true) }

// changeRegistration is PATCH (update the fields given) and PUT (replace).
func (s *Server) changeRegistration(k *kpCtx, replace bool) *apiError {
	var out registrationJSON
	e := s.update(func() *apiError {
		kk, crn, e := s.registrationTarget(k)
		if e != nil {
			return e
		}
		if e := allowed(opModify, s.stateOf(kk)); e != nil {
			return e
		}
		r := kk.registration(crn)
		if r == nil {
			return regNotFound(crn)
		}
		req, e := parseRegistration(k.body)
		if e != nil {
			return e
		}
		if e := s.applyRegistration(kk, r, req, replace, k.c.IAMID); e != nil {
			return e
		}
		out = renderRegistration(kk, r)
		return nil
	})
	if e != nil {
		return e
	}
	writeCollection(k.w, http.StatusOK, registrationType, []registrationJSON{out})
	return nil
}

func (s *Server) applyRegistration(kk *key, r *registration, req *registrationReq, replace bool, by string) *apiError {
	if replace && req.PreventKeyDeletion == nil {
		return fieldErr("preventKeyDeletion", "true or false")
	}
	version, e := registrationVersion(kk, r.KeyVersionID, req.KeyVersionID)
	if e != nil {
		return e
	}
	r.KeyVersionID = version
	if req.PreventKeyDeletion != nil {
		r.PreventKeyDeletion = *req.PreventKeyDeletion
	}
	if req.Description != nil || replace {
		r.Description = ""
		if req.Description != nil {
			r.Description = *req.Description
		}
	}
	if req.RegistrationMetadata != nil || replace {
		r.Metadata = compactJSON(req.RegistrationMetadata)
	}
	r.UpdatedBy, r.Updated = by, s.now()
	return nil
}

func handleDeleteRegistration(s *Server, k *kpCtx) *apiError {
	e := s.update(func() *apiError {
		kk, crn, e := s.registrationTarget(k)
		if e != nil {
			return e
		}
		for i, r := range kk.Registrations {
			if r.ResourceCRN == crn {
				kk.Registrations = append(kk.Registrations[:i], kk.Registrations[i+1:]...)
				return nil
			}
		}
		return regNotFound(crn)
	})
	if e != nil {
		return e
	}
	writeNoContent(k.w)
	return nil
}
