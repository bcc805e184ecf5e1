package ibmenv

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// TokenSource is an authenticator that holds an IAM access token, such as
// core.IamAuthenticator (which caches it and refreshes it before it
// expires).
type TokenSource interface {
	GetToken() (string, error)
}

// IAMIDs learns the IAM id behind each identity once and keeps it: the id
// Key Protect sees on every call made with that identity's token (IAM
// writes it into its access tokens as the iam_id claim). It is safe for
// concurrent use.
type IAMIDs struct {
	mu    sync.Mutex
	known map[TokenSource]string
}

// NewIAMIDs returns an empty IAMIDs.
func NewIAMIDs() *IAMIDs { return &IAMIDs{known: map[TokenSource]string{}} }

// Of is the IAM id of the identity auth authenticates, from its access
// token (fetched only when auth has none yet). A failure is not kept.
func (w *IAMIDs) Of(auth TokenSource) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if id, ok := w.known[auth]; ok {
		return id, nil
	}
	token, err := auth.GetToken()
	if err != nil {
		return "", fmt.Errorf("learn the IAM id of an identity: get its IAM token: %w: check BYOK_IAM_URL and the API key", err)
	}
	id, err := IAMIDOfToken(token)
	if err != nil {
		return "", err
	}
	w.known[auth] = id
	return id, nil
}

// IAMIDOfToken reads the iam_id claim of an IAM access token (a JWT). It
// does not verify the signature: the token came from IAM over the caller's
// own connection. Errors never quote the token.
func IAMIDOfToken(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("read the IAM id of an IAM token: it is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", errors.New("read the IAM id of an IAM token: its payload is not base64url")
	}
	var claims struct {
		IAMID string `json:"iam_id"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.IAMID == "" {
		return "", errors.New("read the IAM id of an IAM token: it has no iam_id claim")
	}
	return claims.IAMID, nil
}
