package emulator

import (
	"encoding/base64"
	"net/http"
	"time"
	"unicode/utf8"
)

// Standard keys hold at most this much material (spec §2.1).
const maxStandardPayload = 7500

func handleCreateKey(s *Server, k *kpCtx) *apiError          { return s.createKey(k, false) }
func handleCreateKeyOverrides(s *Server, k *kpCtx) *apiError { return s.createKey(k, true) }

func (s *Server) createKey(k *kpCtx, overrides bool) *apiError {
	var out keyJSON
	e := s.update(func() *apiError {
		if e := s.checkAccess(k, ""); e != nil {
			return e
		}
		req, e := parseCreate(k.body)
		if e != nil {
			return e
		}
		kk, e := s.buildKey(k, req, overrides)
		if e != nil {
			return e
		}
		s.st.Keys[kk.ID] = kk
		k.keyID = kk.ID
		for _, a := range kk.Aliases {
			s.st.aliases[aliasIndex(kk.InstanceID, a.Name)] = kk.ID
		}
		out = s.renderKey(kk, false)
		return nil
	})
	if e != nil {
		return e
	}
	writeCollection(k.w, http.StatusCreated, keyType, []keyJSON{out})
	return nil
}

// parseCreate checks the request envelope and returns its one resource.
func parseCreate(body []byte) (*keyCreateReq, *apiError) {
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
	if len(env.Resources) != 1 {
		return nil, badBody("Only creation of one key per request is supported")
	}
	req := new(keyCreateReq)
	if _, e := decodeJSON(env.Resources[0], req); e != nil {
		return nil, e
	}
	return req, nil
}

// buildKey validates a create request and returns the new key; the
// caller holds the write lock and stores it.
func (s *Server) buildKey(k *kpCtx, req *keyCreateReq, overrides bool) (*key, *apiError) {
	inst := s.st.Instances[k.inst]
	if e := checkCreateAccess(inst, req.Extractable, req.Payload != ""); e != nil {
		return nil, e
	}
	exp, material, e := s.checkCreate(inst, req)
	if e != nil {
		return nil, e
	}
	defer clear(material)
	now := s.now()
	kk := &key{
		ID: newUUID(), InstanceID: inst.ID, Name: req.Name, Description: req.Description,
		Tags: req.Tags, Extractable: req.Extractable, Imported: req.Payload != "",
		State: stateActive, CreatedBy: k.c.IAMID, Created: now, Updated: now,
		StateChanged: now, Expiration: exp,
	}
	if kk.KeyRingID, e = s.ringFor(k, inst, req.KeyRingID); e != nil {
		return nil, e
	}
	if e := s.addAliases(kk, req.Aliases, k.c.IAMID); e != nil {
		return nil, e
	}
	if e := s.applyCreatePolicies(kk, inst, req, overrides, k.c.IAMID); e != nil {
		return nil, e
	}
	if e := s.addVersion(kk, kk.ID, material, now); e != nil {
		return nil, e
	}
	return kk, nil
}

// checkCreate validates the fields of a create request and returns the
// expiration date and the key material: generated, imported in plain, or
// imported securely under the instance's import token.
func (s *Server) checkCreate(inst *instance, req *keyCreateReq) (*time.Time, []byte, *apiError) {
	if e := validateNameAndDescription(req.Name, req.Description); e != nil {
		return nil, nil, e
	}
	exp, e := s.expiresAt(req.ExpirationDate)
	if e != nil {
		return nil, nil, e
	}
	material, e := s.materialFor(inst, importReq{Payload: req.Payload, EncryptedNonce: req.EncryptedNonce,
		IV: req.IV, Algorithm: req.EncryptionAlgorithm}, req.Extractable)
	if e != nil {
		return nil, nil, e
	}
	return exp, material, nil
}

func validateNameAndDescription(name, description string) *apiError {
	if n := utf8.RuneCountInString(name); n < 2 || n > 90 {
		return fieldErr("name", "a string of 2 to 90 characters")
	}
	if utf8.RuneCountInString(description) > 240 {
		return fieldErr("description", "a string of at most 240 characters")
	}
	return nil
}

// keyMaterial decodes an imported payload or generates 32 random bytes.
func keyMaterial(payload string, extractable bool) ([]byte, *apiError) {
	if payload == "" {
		return randomBytes(32), nil
	}
	m, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, fieldErr("payload", "base64 encoded key material")
	}
	if extractable && (len(m) == 0 || len(m) > maxStandardPayload) {
		return nil, fieldErr("payload", "1 to 7500 bytes of base64 encoded key material")
	}
	if !extractable && len(m) != 16 && len(m) != 24 && len(m) != 32 {
		return nil, fieldErr("payload", "base64 encoded key material of 128, 192 or 256 bits")
	}
	return m, nil
}

// addVersion seals material as a new version of kk.
func (s *Server) addVersion(kk *key, versionID string, material []byte, now time.Time) *apiError {
	v := &keyVersion{ID: versionID, Created: now, Sealed: sealMaterial(s.master, kk.ID, versionID, material)}
	if !kk.Extractable {
		if err := s.prepareVersion(kk, v); err != nil {
			s.log.Error("prepare key version", "key", kk.ID, "err", err)
			return internalErr()
		}
	}
	kk.Versions = append(kk.Versions, v)
	return nil
}

// ringFor picks the key ring of a new key: X-Kms-Key-Ring, the body's
// keyRingID, or default.
func (s *Server) ringFor(k *kpCtx, inst *instance, bodyRing string) (string, *apiError) {
	ring := k.r.Header.Get("X-Kms-Key-Ring")
	if ring == "" {
		ring = bodyRing
	}
	if ring == "" {
		return "default", nil
	}
	if !ringExists(inst, ring) {
		return "", newErr(http.StatusNotFound, codeKeyRingNotFound, "Key ring '"+ring+"' does not exist")
	}
	return ring, nil
}

func handleGetKey(s *Server, k *kpCtx) *apiError         { return s.getKey(k, true) }
func handleGetKeyMetadata(s *Server, k *kpCtx) *apiError { return s.getKey(k, false) }

func (s *Server) getKey(k *kpCtx, withPayload bool) *apiError {
	var out keyJSON
	e := s.view(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		out = s.renderKey(kk, withPayload && k.canSeePayload())
		return nil
	})
	if e != nil {
		return e
	}
	writeCollection(k.w, http.StatusOK, keyType, []keyJSON{out})
	return nil
}

func handleSetKeyRing(s *Server, k *kpCtx) *apiError {
	var req struct {
		KeyRingID string `json:"keyRingID"`
	}
	var out keyJSON
	e := s.update(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		if _, e := decodeJSON(k.body, &req); e != nil {
			return e
		}
		if req.KeyRingID == "" {
			return fieldErr("keyRingID", "the ID of an existing key ring")
		}
		s.settle(kk)
		if e := allowed(opModify, kk.State); e != nil {
			return e
		}
		if !ringExists(s.st.Instances[kk.InstanceID], req.KeyRingID) {
			return newErr(http.StatusNotFound, codeKeyRingNotFound, "Key ring '"+req.KeyRingID+"' does not exist")
		}
		kk.KeyRingID, kk.Updated = req.KeyRingID, s.now()
		out = s.renderKey(kk, false)
		return nil
	})
	if e != nil {
		return e
	}
	writeCollection(k.w, http.StatusOK, keyType, []keyJSON{out})
	return nil
}
