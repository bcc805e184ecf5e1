package codecserver

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// IAM validates bearer tokens with IBM Cloud IAM's token introspection
// (POST {IAM}/identity/introspect, RFC 7662): a token is accepted while IAM
// calls it active and it belongs to one of Accounts. Answers are cached
// per token (by its SHA-256, never the token itself) for at most CacheFor
// and never past the token's expiry, so the Web UI's many decode calls cost
// one IAM call.
type IAM struct {
	URL      string   // IAM base URL, e.g. https://iam.cloud.ibm.com
	Accounts []string // accounts whose identities may use the codec
	CacheFor time.Duration
	Client   *http.Client

	mu    sync.Mutex
	cache map[[32]byte]time.Time // token hash -> accepted until
}

var _ Authenticator = (*IAM)(nil)

// introspection is the part of IAM's answer the check reads.
type introspection struct {
	Active  bool   `json:"active"`
	IAMID   string `json:"iam_id"`
	Exp     int64  `json:"exp"`
	Account struct {
		BSS string `json:"bss"`
	} `json:"account"`
}

// Authorize accepts an active IAM access token of an allowed account.
func (a *IAM) Authorize(ctx context.Context, header string) error {
	tok, ok := bearer(header)
	if !ok {
		return ErrUnauthorized
	}
	sum := sha256.Sum256([]byte(tok))
	if a.cached(sum) {
		return nil
	}
	in, err := a.introspect(ctx, tok)
	if err != nil {
		return err
	}
	if !in.Active || !slices.Contains(a.Accounts, in.Account.BSS) {
		return ErrUnauthorized
	}
	until := time.Now().Add(a.CacheFor)
	if exp := time.Unix(in.Exp, 0); in.Exp > 0 && exp.Before(until) {
		until = exp
	}
	a.remember(sum, until)
	return nil
}

func (a *IAM) introspect(ctx context.Context, tok string) (introspection, error) {
	var in introspection
	body := strings.NewReader(url.Values{"token": {tok}}.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(a.URL, "/")+"/identity/introspect", body)
	if err != nil {
		return in, fmt.Errorf("introspect token at IAM %s: %w", a.URL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	client := a.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return in, fmt.Errorf("introspect token at IAM %s: %w", a.URL, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized:
		return in, ErrUnauthorized
	case resp.StatusCode != http.StatusOK:
		return in, fmt.Errorf("introspect token at IAM %s: answered %s", a.URL, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		return in, fmt.Errorf("introspect token at IAM %s: unreadable answer: %w", a.URL, err)
	}
	return in, nil
}

func (a *IAM) cached(sum [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.cache[sum]
	if ok && time.Now().Before(until) {
		return true
	}
	delete(a.cache, sum)
	return false
}

// maxCached bounds the cache; it is emptied when full.
const maxCached = 1024

func (a *IAM) remember(sum [32]byte, until time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cache == nil || len(a.cache) >= maxCached {
		a.cache = map[[32]byte]time.Time{}
	}
	a.cache[sum] = until
}
