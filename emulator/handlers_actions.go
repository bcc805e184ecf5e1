package emulator

import (
	"encoding/base64"
	"net/http"
	"unicode/utf8"
)

// Wrap, unwrap and rewrap change no state: they run under the read lock
// and never write the state (only their activity record line).

// maxWrapPlaintext bounds a caller-supplied DEK.
const maxWrapPlaintext = 7500

func handleWrap(s *Server, k *kpCtx) *apiError {
	req, e := parseAction(k.body)
	if e != nil {
		return e
	}
	dek, generated := []byte(nil), req.Plaintext == ""
	if generated {
		dek = randomBytes(32)
	} else if dek, e = decodePlaintext(req.Plaintext); e != nil {
		return e
	}
	defer clear(dek)
	var resp actionResp
	e = s.view(func() *apiError {
		kk, e := s.cryptoKey(k, opWrap)
		if e != nil {
			return e
		}
		v := kk.latest()
		resp.Ciphertext = wrapDEK(kk.ID, v, dek, req.AAD)
		resp.KeyVersion = &versionJSON{ID: v.ID, CreationDate: stampPtr(&v.Created)}
		return nil
	})
	if e != nil {
		return e
	}
	if generated {
		resp.Plaintext = base64.StdEncoding.EncodeToString(dek)
	}
	writeJSON(k.w, http.StatusOK, resp)
	return nil
}

func handleUnwrap(s *Server, k *kpCtx) *apiError { return s.unwrap(k, false) }
func handleRewrap(s *Server, k *kpCtx) *apiError { return s.unwrap(k, true) }

// unwrap opens a ciphertext; rewrap (or an unwrap of an older version)
// also seals the DEK again under the latest version.
func (s *Server) unwrap(k *kpCtx, rewrap bool) *apiError {
	req, e := parseAction(k.body)
	if e != nil {
		return e
	}
	doc, err := base64.StdEncoding.DecodeString(req.Ciphertext)
	if err != nil || req.Ciphertext == "" {
		return fieldErr("ciphertext", "the original base64 encoded ciphertext from the wrap operation")
	}
	var resp actionResp
	e = s.view(func() *apiError {
		kk, e := s.cryptoKey(k, opUnwrap)
		if e != nil {
			return e
		}
		dek, v, err := unwrapDEK(kk, doc, req.AAD)
		if err != nil {
			return newErr(http.StatusUnprocessableEntity, codeUnprocessableCT, "The provided ciphertext is invalid or corrupted")
		}
		defer clear(dek)
		resp.KeyVersion = &versionJSON{ID: v.ID}
		if latest := kk.latest(); rewrap || latest != v {
			resp.Ciphertext = wrapDEK(kk.ID, latest, dek, req.AAD)
			resp.RewrappedKeyVersion = &versionJSON{ID: latest.ID}
		}
		if !rewrap {
			resp.Plaintext = base64.StdEncoding.EncodeToString(dek)
		}
		return nil
	})
	if e != nil {
		return e
	}
	writeJSON(k.w, http.StatusOK, resp)
	return nil
}

// cryptoKey resolves a root key on which op may run now.
func (s *Server) cryptoKey(k *kpCtx, op keyOp) (*key, *apiError) {
	kk, e := s.accessKey(k)
	if e != nil {
		return nil, e
	}
	if kk.Extractable {
		return nil, rootRequired()
	}
	if e := allowed(op, s.stateOf(kk)); e != nil {
		return nil, e
	}
	return kk, nil
}

// parseAction reads a key action body; null, {} and empty are alike.
func parseAction(body []byte) (*actionReq, *apiError) {
	req := new(actionReq)
	if _, e := decodeJSON(body, req); e != nil {
		return nil, e
	}
	for _, a := range req.AAD {
		if utf8.RuneCountInString(a) > 255 {
			return nil, fieldErr("aad", "a list of strings of at most 255 characters each")
		}
	}
	return req, nil
}

func decodePlaintext(p string) ([]byte, *apiError) {
	b, err := base64.StdEncoding.DecodeString(p)
	if err != nil || len(b) > maxWrapPlaintext {
		return nil, fieldErr("plaintext", "a base64 encoded key material of at most 7500 bytes")
	}
	return b, nil
}
