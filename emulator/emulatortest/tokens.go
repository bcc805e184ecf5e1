package emulatortest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// tokenLog records every access and refresh token the emulator issued, for
// tests that look for secrets where none may be (the e2e secret scan).
type tokenLog struct {
	mu     sync.Mutex
	tokens []string
}

// Tokens returns every IAM access and refresh token issued so far.
func (e *Env) Tokens() []string {
	e.tokens.mu.Lock()
	defer e.tokens.mu.Unlock()
	return append([]string(nil), e.tokens.tokens...)
}

func (l *tokenLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/token") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &teeWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(rec.body.Bytes(), &tok) == nil && tok.AccessToken != "" {
			l.mu.Lock()
			l.tokens = append(l.tokens, tok.AccessToken, tok.RefreshToken)
			l.mu.Unlock()
		}
	})
}

// teeWriter keeps a copy of the body it writes.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.body.Write(b)
	return t.ResponseWriter.Write(b)
}
