package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// wantsRepresentation reads the Prefer header; minimal is the default.
func wantsRepresentation(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Prefer"), "return=representation")
}

// writeKeyOrNothing answers 200 with the key for return=representation,
// otherwise 204.
func writeKeyOrNothing(k *kpCtx, out keyJSON) {
	if wantsRepresentation(k.r) {
		writeCollection(k.w, http.StatusOK, keyType, []keyJSON{out})
		return
	}
	writeNoContent(k.w)
}

func handleDeleteKey(s *Server, k *kpCtx) *apiError {
	force, e := boolQuery(k.r.URL.Query(), "force")
	if e != nil {
		return e
	}
	var out keyJSON
	e = s.update(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		s.settle(kk)
		if e := allowed(opDelete, kk.State); e != nil {
			return e
		}
		if e := checkRegistrations(kk, force != nil && *force); e != nil {
			return e
		}
		if e := s.checkDualAuth(kk, k.c.IAMID); e != nil {
			return e
		}
		now := s.now()
		kk.State, kk.StateChanged, kk.Updated = stateDestroyed, now, now
		kk.Deleted = &deletion{By: k.c.IAMID, At: now}
		kk.DualAuthSet = nil
		out = s.renderKey(kk, false)
		return nil
	})
	if e != nil {
		return e
	}
	writeKeyOrNothing(k, out)
	return nil
}

// checkRegistrations refuses to delete a key protecting resources.
func checkRegistrations(kk *key, force bool) *apiError {
	for _, r := range kk.Registrations {
		if r.PreventKeyDeletion {
			return conflict(codePrevKeyDel, "The key cannot be deleted because it's protecting a cloud resource that has a retention policy: "+
				"Before you delete this key, contact an account owner to remove the retention policy on each resource that is associated with the key")
		}
	}
	if len(kk.Registrations) > 0 && !force {
		return conflict(codeProtectedResource, "Key is protecting one or more cloud resources")
	}
	return nil
}

// checkDualAuth requires, for a dual-auth key, an open authorization set
// by a different user.
func (s *Server) checkDualAuth(kk *key, iamID string) *apiError {
	if kk.DualAuth == nil || !kk.DualAuth.Enabled {
		return nil
	}
	if !s.dualAuthValid(kk) || kk.DualAuthSet.By == iamID {
		e := conflict(codeAuthorizationsNot, "Number of authorizations required to delete is not met")
		e.what = "1 prior authorization(s) are required for deletion: Key could not be deleted"
		return e
	}
	return nil
}

func handleRestoreKey(s *Server, k *kpCtx) *apiError {
	var out keyJSON
	e := s.update(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		if e := s.restorable(kk); e != nil {
			return e
		}
		now := s.now()
		kk.State, kk.StateChanged, kk.Updated, kk.Deleted = stateActive, now, now, nil
		out = s.renderKey(kk, false)
		return nil
	})
	if e != nil {
		return e
	}
	writeCollection(k.w, http.StatusCreated, keyType, []keyJSON{out})
	return nil
}

func (s *Server) restorable(kk *key) *apiError {
	if e := allowed(opRestore, kk.State); e != nil {
		return e
	}
	if e := s.guard(kk.Deleted.At, s.cfg.Timing.EnableDelay); e != nil {
		return e
	}
	if w := s.cfg.Timing.RestoreWindow; w > 0 && s.now().Sub(kk.Deleted.At) >= w {
		return newErr(http.StatusBadRequest, codeRestoreExpired, "Key restoration has expired")
	}
	if kk.Expiration != nil && !s.now().Before(*kk.Expiration) {
		e := newErr(http.StatusBadRequest, codeKeyExpired, "The action could not be performed on the key because the key is expired")
		e.what = "The key expired on " + kk.Expiration.UTC().String() + ": Key could not be restored"
		return e
	}
	return nil
}

func handlePurgeKey(s *Server, k *kpCtx) *apiError {
	var out keyJSON
	e := s.update(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		if e := allowed(opPurge, kk.State); e != nil {
			return e
		}
		if d := s.cfg.Timing.PurgeDelay; d > 0 && s.now().Sub(kk.Deleted.At) < d {
			e := tooEarly()
			e.message = fmt.Sprintf("The key was updated recently: Purge operation is allowed %s after key is deleted", d)
			return e
		}
		out = s.renderKey(kk, false)
		s.st.removeKey(kk)
		return nil
	})
	if e != nil {
		return e
	}
	writeKeyOrNothing(k, out)
	return nil
}
