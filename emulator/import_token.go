package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"time"
)

// Import tokens (spec section 2.1, secure import): an instance has at most
// one; creating another replaces it. The public half of its RSA transport
// key and its nonce are handed out by GET import_token while retrievals
// remain and the token has not expired; the private half never leaves the
// emulator and is stored, with the nonce, sealed under the master key.

// Limits of an import token, as the real service has them.
const (
	defaultTokenExpiration = 600 // seconds
	minTokenExpiration     = 300
	maxTokenExpiration     = 86400
	defaultTokenRetrievals = 1
	maxTokenRetrievals     = 500
	tokenNonceSize         = 12
)

// DefaultTransportKeyBits is the size of an import token's RSA transport
// key, as the real service makes it.
const DefaultTransportKeyBits = 4096

type importToken struct {
	ID            string    `json:"id"`
	Created       time.Time `json:"created"`
	Expires       time.Time `json:"expires"`
	MaxRetrievals int       `json:"maxRetrievals"`
	Remaining     int       `json:"remaining"`
	PublicKey     []byte    `json:"publicKey"` // PEM of the PKIX public key
	Sealed        []byte    `json:"sealed"`    // tokenSecret under the master key
}

// tokenSecret is what an import token keeps sealed.
type tokenSecret struct {
	PrivateKey []byte `json:"privateKey"` // PKCS #8 DER
	Nonce      []byte `json:"nonce"`
}

type tokenCreateReq struct {
	Expiration           *int `json:"expiration"`
	MaxAllowedRetrievals *int `json:"maxAllowedRetrievals"`
}

// tokenJSON is the wire form: metadata on create, plus the transport key
// and the nonce on retrieval.
type tokenJSON struct {
	ID                   string `json:"id"`
	CreationDate         stamp  `json:"creationDate"`
	ExpirationDate       stamp  `json:"expirationDate"`
	MaxAllowedRetrievals int    `json:"maxAllowedRetrievals"`
	RemainingRetrievals  int    `json:"remainingRetrievals"`
	Payload              string `json:"payload,omitempty"`
	Nonce                string `json:"nonce,omitempty"`
}

func tokenAD(instanceID, tokenID string) []byte {
	return []byte("byokflow-emulator/import-token\x00" + instanceID + "\x00" + tokenID)
}

func handleCreateImportToken(s *Server, k *kpCtx) *apiError {
	expiration, retrievals, e := parseTokenRequest(k.body)
	if e != nil {
		return e
	}
	// Key generation is slow: check access first, generate unlocked.
	if e := s.view(func() *apiError { return s.checkAccess(k, "") }); e != nil {
		return e
	}
	priv, err := rsa.GenerateKey(rand.Reader, s.cfg.TransportKeyBits)
	if err != nil {
		s.log.Error("generate transport key", "err", err)
		return internalErr()
	}
	var out tokenJSON
	e = s.update(func() *apiError {
		if e := s.checkAccess(k, ""); e != nil {
			return e
		}
		tok, err := s.newImportToken(k.inst, priv, expiration, retrievals)
		if err != nil {
			s.log.Error("seal import token", "err", err)
			return internalErr()
		}
		s.st.Instances[k.inst].ImportToken = tok
		out = tok.render()
		return nil
	})
	if e != nil {
		return e
	}
	writeJSON(k.w, http.StatusOK, out)
	return nil
}

// parseTokenRequest reads and checks expiration and maxAllowedRetrievals;
// absent or zero fields take the defaults (the client omits zeros).
func parseTokenRequest(body []byte) (int, int, *apiError) {
	var req tokenCreateReq
	if _, e := decodeJSON(body, &req); e != nil {
		return 0, 0, e
	}
	expiration, retrievals := defaultTokenExpiration, defaultTokenRetrievals
	if req.Expiration != nil && *req.Expiration != 0 {
		expiration = *req.Expiration
	}
	if req.MaxAllowedRetrievals != nil && *req.MaxAllowedRetrievals != 0 {
		retrievals = *req.MaxAllowedRetrievals
	}
	if expiration < minTokenExpiration || expiration > maxTokenExpiration {
		return 0, 0, fieldErr("expiration", fmt.Sprintf("an integer between %d and %d (seconds)", minTokenExpiration, maxTokenExpiration))
	}
	if retrievals < 1 || retrievals > maxTokenRetrievals {
		return 0, 0, fieldErr("maxAllowedRetrievals", fmt.Sprintf("an integer between 1 and %d", maxTokenRetrievals))
	}
	return expiration, retrievals, nil
}

// newImportToken builds a token around priv with a fresh nonce, sealing
// both under the master key.
func (s *Server) newImportToken(instanceID string, priv *rsa.PrivateKey, expiration, retrievals int) (*importToken, error) {
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	secret, _ := json.Marshal(tokenSecret{PrivateKey: der, Nonce: randomBytes(tokenNonceSize)})
	clear(der)
	defer clear(secret)
	now := s.now()
	tok := &importToken{ID: newUUID(), Created: now, Expires: now.Add(time.Duration(expiration) * time.Second),
		MaxRetrievals: retrievals, Remaining: retrievals,
		PublicKey: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})}
	nonce := randomBytes(s.master.NonceSize())
	tok.Sealed = s.master.Seal(nonce, nonce, secret, tokenAD(instanceID, tok.ID))
	return tok, nil
}

func handleGetImportToken(s *Server, k *kpCtx) *apiError {
	var out tokenJSON
	e := s.update(func() *apiError {
		if e := s.checkAccess(k, ""); e != nil {
			return e
		}
		tok, e := s.liveToken(s.st.Instances[k.inst])
		if e != nil {
			return e
		}
		if tok.Remaining <= 0 {
			return tokenSpent()
		}
		secret, err := s.openToken(k.inst, tok)
		if err != nil {
			return internalErr()
		}
		defer clear(secret.PrivateKey)
		tok.Remaining--
		out = tok.render()
		out.Payload = base64.StdEncoding.EncodeToString(tok.PublicKey)
		out.Nonce = base64.StdEncoding.EncodeToString(secret.Nonce)
		return nil
	})
	if e != nil {
		return e
	}
	writeJSON(k.w, http.StatusOK, out)
	return nil
}

func (t *importToken) render() tokenJSON {
	return tokenJSON{ID: t.ID, CreationDate: stamp(t.Created), ExpirationDate: stamp(t.Expires),
		MaxAllowedRetrievals: t.MaxRetrievals, RemainingRetrievals: t.Remaining}
}

// liveToken is the instance's import token while it has not expired.
func (s *Server) liveToken(inst *instance) (*importToken, *apiError) {
	tok := inst.ImportToken
	if tok == nil {
		return nil, newErr(http.StatusNotFound, codeImportTokenNotFound,
			"No import token exists for this instance: Create one with POST /api/v2/import_token")
	}
	if !s.now().Before(tok.Expires) {
		return nil, newErr(http.StatusConflict, codeImportTokenExpired, "The import token has expired")
	}
	return tok, nil
}

// tokenSpent answers a retrieval beyond maxAllowedRetrievals. The real
// service documents no reason of its own for it; the token is no longer
// accessible, as an expired one.
func tokenSpent() *apiError {
	return newErr(http.StatusConflict, codeImportTokenExpired,
		"The import token has reached its maximum number of retrievals: Create a new import token")
}

// openToken unseals the token's private key and nonce.
func (s *Server) openToken(instanceID string, tok *importToken) (tokenSecret, error) {
	var secret tokenSecret
	n := s.master.NonceSize()
	if len(tok.Sealed) < n {
		return secret, fmt.Errorf("open import token %s: too short", tok.ID)
	}
	pt, err := s.master.Open(nil, tok.Sealed[:n], tok.Sealed[n:], tokenAD(instanceID, tok.ID))
	if err != nil {
		s.log.Error("open import token", "token", tok.ID, "err", "wrong master key or corrupted state")
		return secret, fmt.Errorf("open import token %s: wrong master key or corrupted state", tok.ID)
	}
	defer clear(pt)
	err = json.Unmarshal(pt, &secret)
	return secret, err
}
