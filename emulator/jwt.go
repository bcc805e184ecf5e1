package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// tokenLifetime is the access token's validity, as IAM issues it.
const tokenLifetime = 3600 * time.Second

// refreshLifetime is the refresh token's validity.
const refreshLifetime = 30 * 24 * time.Hour

// jwtHeader is the fixed, pre-encoded JOSE header of every access token.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"byokflow-emulator"}`))

var errBadToken = errors.New("token is malformed, badly signed or expired")

// claims are the IAM access token claims the emulator issues and reads.
type claims struct {
	IAMID     string        `json:"iam_id"`
	ID        string        `json:"id"`
	RealmID   string        `json:"realmid"`
	Sub       string        `json:"sub"`
	SubType   string        `json:"sub_type,omitempty"`
	Account   claimsAccount `json:"account"`
	Iat       int64         `json:"iat"`
	Exp       int64         `json:"exp"`
	Iss       string        `json:"iss"`
	GrantType string        `json:"grant_type"`
	Scope     string        `json:"scope"`
	ClientID  string        `json:"client_id"`
	Jti       string        `json:"jti"`
}

type claimsAccount struct {
	BSS   string `json:"bss"`
	Valid bool   `json:"valid"`
}

// tokens signs and verifies access and refresh tokens with one HS256
// secret, and caches verified access tokens.
type tokens struct {
	secret []byte
	cache  sync.Map // token string -> *claims
	size   atomic.Int64
}

// maxCachedTokens bounds the verification cache; it is emptied when full.
const maxCachedTokens = 4096

func (t *tokens) sign(domain, signingInput string) string {
	m := hmac.New(sha256.New, t.secret)
	m.Write([]byte(domain))
	m.Write([]byte(signingInput))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// issue returns a signed access token for c.
func (t *tokens) issue(c claims) string {
	payload, _ := json.Marshal(c)
	input := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return input + "." + t.sign("", input)
}

// verify checks signature and expiry and returns the claims.
func (t *tokens) verify(tok string, now time.Time) (*claims, error) {
	if v, ok := t.cache.Load(tok); ok {
		c := v.(*claims)
		if now.Unix() >= c.Exp {
			return nil, errBadToken
		}
		return c, nil
	}
	c, err := t.parse(tok)
	if err != nil || now.Unix() >= c.Exp {
		return nil, errBadToken
	}
	t.remember(tok, c)
	return c, nil
}

func (t *tokens) parse(tok string) (*claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != jwtHeader {
		return nil, errBadToken
	}
	want := t.sign("", parts[0]+"."+parts[1])
	if !hmac.Equal([]byte(want), []byte(parts[2])) {
		return nil, errBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errBadToken
	}
	c := new(claims)
	if err := json.Unmarshal(payload, c); err != nil || c.IAMID == "" {
		return nil, errBadToken
	}
	return c, nil
}

func (t *tokens) remember(tok string, c *claims) {
	if t.size.Add(1) > maxCachedTokens {
		t.cache.Range(func(k, _ any) bool { t.cache.Delete(k); return true })
		t.size.Store(1)
	}
	t.cache.Store(tok, c)
}

// refreshClaims is the payload of an emulator refresh token.
type refreshClaims struct {
	IAMID string `json:"iam_id"`
	Exp   int64  `json:"exp"`
	Jti   string `json:"jti"`
}

const refreshDomain = "refresh\x00"

// issueRefresh returns an opaque refresh token for iamID.
func (t *tokens) issueRefresh(iamID string, now time.Time) string {
	payload, _ := json.Marshal(refreshClaims{IAMID: iamID, Exp: now.Add(refreshLifetime).Unix(), Jti: newUUID()})
	input := "rt." + base64.RawURLEncoding.EncodeToString(payload)
	return input + "." + t.sign(refreshDomain, input)
}

// verifyRefresh returns the IAM ID of a valid refresh token.
func (t *tokens) verifyRefresh(tok string, now time.Time) (string, error) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || !strings.HasPrefix(tok, "rt.") {
		return "", errBadToken
	}
	if !hmac.Equal([]byte(t.sign(refreshDomain, tok[:i])), []byte(tok[i+1:])) {
		return "", errBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(tok[3:i])
	var rc refreshClaims
	if err != nil || json.Unmarshal(payload, &rc) != nil || now.Unix() >= rc.Exp {
		return "", errBadToken
	}
	return rc.IAMID, nil
}
