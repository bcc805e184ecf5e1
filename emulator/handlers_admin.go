package emulator

import (
	"net/http"
)

// keyAdmin runs a state-changing key action under the write lock and
// answers 204.
func (s *Server) keyAdmin(k *kpCtx, fn func(kk *key) *apiError) *apiError {
	e := s.update(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		s.settle(kk)
		return fn(kk)
	})
	if e != nil {
		return e
	}
	writeNoContent(k.w)
	return nil
}

func handleRotate(s *Server, k *kpCtx) *apiError {
	req, e := parseAction(k.body)
	if e != nil {
		return e
	}
	return s.keyAdmin(k, func(kk *key) *apiError {
		if kk.Extractable {
			return rootRequired()
		}
		if e := allowed(opRotate, kk.State); e != nil {
			return e
		}
		now := s.now()
		if d := s.cfg.Timing.RotationInterval; d > 0 && kk.LastRotate != nil && now.Sub(*kk.LastRotate) < d {
			return conflict(codeRotationNotAllowed, "This root key has been rotated within the last hour: Only one 'rotate' action per hour is permitted")
		}
		material, e := s.rotationMaterial(kk, req)
		if e != nil {
			return e
		}
		defer clear(material)
		if e := s.addVersion(kk, newUUID(), material, now); e != nil {
			return e
		}
		kk.LastRotate, kk.Updated = &now, now
		return nil
	})
}

// rotationMaterial is the new version's material: for an imported key
// the payload, in plain or encrypted under the instance's import token;
// fresh random bytes otherwise.
func (s *Server) rotationMaterial(kk *key, req *actionReq) ([]byte, *apiError) {
	r := importReq{Payload: req.Payload, EncryptedNonce: req.EncryptedNonce, IV: req.IV, Algorithm: req.EncryptionAlgorithm}
	if kk.Imported && req.Payload == "" {
		return nil, newErr(http.StatusBadRequest, codePayloadRequired,
			"This root key was created with user-supplied key material: Key material is required to perform a 'rotate' action")
	}
	if !kk.Imported && (req.Payload != "" || r.secure()) {
		return nil, queryErr("payload", "provided only if key is imported")
	}
	if !kk.Imported {
		return keyMaterial("", false)
	}
	return s.materialFor(s.st.Instances[kk.InstanceID], r, false)
}

func handleDisable(s *Server, k *kpCtx) *apiError {
	return s.keyAdmin(k, func(kk *key) *apiError {
		if kk.Extractable {
			return rootRequired()
		}
		if e := allowed(opDisable, kk.State); e != nil {
			return e
		}
		s.setState(kk, stateSuspended)
		return nil
	})
}

func handleEnable(s *Server, k *kpCtx) *apiError {
	return s.keyAdmin(k, func(kk *key) *apiError {
		if kk.Extractable {
			return rootRequired()
		}
		if e := allowed(opEnable, kk.State); e != nil {
			return e
		}
		if e := s.guard(kk.StateChanged, s.cfg.Timing.EnableDelay); e != nil {
			return e
		}
		s.setState(kk, stateActive)
		return nil
	})
}

func (s *Server) setState(kk *key, st int) {
	now := s.now()
	kk.State, kk.StateChanged, kk.Updated = st, now, now
}

func handleSetForDeletion(s *Server, k *kpCtx) *apiError {
	return s.keyAdmin(k, func(kk *key) *apiError {
		if e := dualAuthAction(kk); e != nil {
			return e
		}
		now := s.now()
		mark := &dualAuthMark{By: k.c.IAMID, At: now}
		if w := s.cfg.Timing.DualAuthWindow; w > 0 {
			mark.Expires = now.Add(w)
		}
		kk.DualAuthSet, kk.Updated = mark, now
		return nil
	})
}

func handleUnsetForDeletion(s *Server, k *kpCtx) *apiError {
	return s.keyAdmin(k, func(kk *key) *apiError {
		if e := dualAuthAction(kk); e != nil {
			return e
		}
		kk.DualAuthSet, kk.Updated = nil, s.now()
		return nil
	})
}

func dualAuthAction(kk *key) *apiError {
	if e := allowed(opDualAuth, kk.State); e != nil {
		return e
	}
	if kk.DualAuth == nil || !kk.DualAuth.Enabled {
		return conflict(codeNotDualAuth, "The key is not dual auth enabled and cannot be set for deletion")
	}
	return nil
}

// handleSync accepts a request to notify the resources registered with a
// root key again (there is nothing to notify in the emulator) and answers
// 204. Any state will do, Destroyed included: renotifying a deletion is
// what sync is for. A second sync within Timing.SyncInterval is 409
// REQ_TOO_EARLY_ERR.
func handleSync(s *Server, k *kpCtx) *apiError {
	return s.keyAdmin(k, func(kk *key) *apiError {
		if kk.Extractable {
			return rootRequired()
		}
		if kk.LastSync != nil {
			if e := s.guard(*kk.LastSync, s.cfg.Timing.SyncInterval); e != nil {
				e.message = "The associated resources of this key were synced recently: Please wait and try again"
				return e
			}
		}
		now := s.now()
		kk.LastSync = &now
		return nil
	})
}
