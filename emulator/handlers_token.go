package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

const grantAPIKey = "urn:ibm:params:oauth:grant-type:apikey"

// hashAPIKey is how API keys are stored: never in clear.
func hashAPIKey(k string) string {
	h := sha256.Sum256([]byte("byokflow-emulator/apikey\x00" + k))
	return hex.EncodeToString(h[:])
}

func serveToken(s *Server, w http.ResponseWriter, r *http.Request, _ []string) {
	if r.Method != http.MethodPost {
		writeTokenError(w, r, http.StatusMethodNotAllowed, "BXNIM0009E", "Operation not supported: use POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := parseForm(r); err != nil {
		writeTokenError(w, r, http.StatusBadRequest, "BXNIM0109E", "Unable to parse the form body")
		return
	}
	iamID, ok := s.grantIdentity(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	ident := s.st.Identities[iamID]
	s.mu.RUnlock()
	if ident == nil {
		writeTokenError(w, r, http.StatusBadRequest, "BXNIM0415E", "Provided API key could not be found")
		return
	}
	writeJSON(w, http.StatusOK, s.issueToken(ident))
}

func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return r.ParseMultipartForm(maxBody)
	}
	return r.ParseForm()
}

// grantIdentity returns the IAM ID the grant names, or writes the error.
func (s *Server) grantIdentity(w http.ResponseWriter, r *http.Request) (string, bool) {
	switch r.PostForm.Get("grant_type") {
	case grantAPIKey:
		key := r.PostForm.Get("apikey")
		if key == "" {
			writeTokenError(w, r, http.StatusBadRequest, "BXNIM0103E", "Property missing or empty: apikey")
			return "", false
		}
		s.mu.RLock()
		iamID, ok := s.st.apiKeys[hashAPIKey(key)]
		s.mu.RUnlock()
		if !ok {
			writeTokenError(w, r, http.StatusBadRequest, "BXNIM0415E", "Provided API key could not be found")
		}
		return iamID, ok
	case "refresh_token":
		iamID, err := s.tokens.verifyRefresh(r.PostForm.Get("refresh_token"), s.tokenNow())
		if err != nil {
			writeTokenError(w, r, http.StatusBadRequest, "BXNIM0407E", "Provided refresh token is invalid or expired")
			return "", false
		}
		return iamID, true
	}
	writeTokenError(w, r, http.StatusBadRequest, "BXNIM0009E", "Operation not supported: unknown grant_type")
	return "", false
}

func (s *Server) issueToken(ident *identity) tokenResponse {
	now := s.tokenNow()
	c := claims{
		IAMID: ident.IAMID, ID: ident.IAMID, RealmID: "IBMid", Sub: ident.IAMID,
		Account: claimsAccount{BSS: ident.AccountID, Valid: true},
		Iat:     now.Unix(), Exp: now.Add(tokenLifetime).Unix(),
		Iss: "https://iam.cloud.ibm.com/identity", GrantType: grantAPIKey,
		Scope: "ibm openid", ClientID: "default", Jti: newUUID(),
	}
	if ident.Kind == kindService {
		c.RealmID, c.SubType = "iam", "ServiceId"
	}
	return tokenResponse{
		AccessToken: s.tokens.issue(c), RefreshToken: s.tokens.issueRefresh(ident.IAMID, now),
		TokenType: "Bearer", ExpiresIn: int64(tokenLifetime.Seconds()), Expiration: c.Exp, Scope: "ibm openid",
	}
}

func writeTokenError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeJSON(w, status, tokenError{ErrorCode: code, ErrorMessage: msg, Context: map[string]string{
		"requestId": newUUID(), "requestType": "incoming.OIDC_Token", "url": r.URL.Path, "host": r.Host,
	}})
}

// serveAPIKeyDetails is iamidentityv1 GetAPIKeysDetails: the identity
// behind the IAM-ApiKey header, never the key itself.
func serveAPIKeyDetails(s *Server, w http.ResponseWriter, r *http.Request, _ []string) {
	if _, err := s.bearer(r); err != nil {
		writeIAMError(w, http.StatusUnauthorized, "invalid_token", "The provided token is invalid or expired")
		return
	}
	hash := hashAPIKey(r.Header.Get("IAM-ApiKey"))
	s.mu.RLock()
	ident := s.st.Identities[s.st.apiKeys[hash]]
	s.mu.RUnlock()
	if ident == nil {
		writeIAMError(w, http.StatusNotFound, "not_found", "API key not found")
		return
	}
	writeJSON(w, http.StatusOK, apiKeyDetails{
		ID: "ApiKey-" + hash[:32], EntityTag: "1-" + hash[:16],
		CRN:       "crn:v1:bluemix:public:iam-identity::a/" + ident.AccountID + "::apikey:ApiKey-" + hash[:32],
		CreatedAt: iamTime(ident.Created), CreatedBy: ident.IAMID, Name: "emulator key of " + ident.IAMID,
		IAMID: ident.IAMID, AccountID: ident.AccountID,
	})
}

// introspection is the answer of POST /identity/introspect (RFC 7662, as
// IAM serves it): active, and for an active token who it names.
type introspection struct {
	Active    bool           `json:"active"`
	IAMID     string         `json:"iam_id,omitempty"`
	Sub       string         `json:"sub,omitempty"`
	Account   *claimsAccount `json:"account,omitempty"`
	Exp       int64          `json:"exp,omitempty"`
	Iat       int64          `json:"iat,omitempty"`
	Scope     string         `json:"scope,omitempty"`
	TokenType string         `json:"token_type,omitempty"`
}

// serveIntrospect tells a resource server (the codec server) whether the
// access token in the form field token is valid now and whose it is. A
// malformed, forged, expired or unknown token is {"active": false}, never
// an error, so the caller learns nothing more.
func serveIntrospect(s *Server, w http.ResponseWriter, r *http.Request, _ []string) {
	if r.Method != http.MethodPost {
		writeTokenError(w, r, http.StatusMethodNotAllowed, "BXNIM0009E", "Operation not supported: use POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := parseForm(r); err != nil || r.PostForm.Get("token") == "" {
		writeTokenError(w, r, http.StatusBadRequest, "BXNIM0103E", "Property missing or empty: token")
		return
	}
	c, err := s.tokens.verify(r.PostForm.Get("token"), s.tokenNow())
	if err != nil {
		writeJSON(w, http.StatusOK, introspection{})
		return
	}
	s.mu.RLock()
	known := s.st.Identities[c.IAMID] != nil
	s.mu.RUnlock()
	if !known {
		writeJSON(w, http.StatusOK, introspection{})
		return
	}
	writeJSON(w, http.StatusOK, introspection{Active: true, IAMID: c.IAMID, Sub: c.Sub, Account: &c.Account,
		Exp: c.Exp, Iat: c.Iat, Scope: c.Scope, TokenType: "Bearer"})
}
