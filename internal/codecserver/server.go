// Package codecserver serves the payload codec to the Temporal Web UI and
// the Temporal CLI over Temporal's remote codec protocol: POST
// /{namespace}/decode and /{namespace}/encode (and /decode, /encode with
// the namespace in X-Namespace), bodies of JSON-encoded Payloads. The
// protocol itself is the SDK's converter.NewPayloadCodecHTTPHandler; this
// package adds what a server open to browsers needs around it:
//
//   - CORS for the Web UI's origins only: a preflight from any other origin
//     is refused, and so is a request that carries another Origin;
//   - authorization: a bearer token that IAM validates (Authenticator),
//     unless the server runs with authorization off for a development
//     machine, which the caller must choose explicitly.
//
// It imports the Temporal SDK and nothing of ours.
package codecserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// Authenticator decides whether the Authorization header value may use the
// codec. It returns ErrUnauthorized for a missing or bad credential and any
// other error when it could not decide (the IdP is unreachable).
type Authenticator interface {
	Authorize(ctx context.Context, header string) error
}

// ErrUnauthorized is a missing, malformed, expired or refused credential.
var ErrUnauthorized = errors.New("unauthorized")

// Config is what the server serves and to whom.
type Config struct {
	Codec converter.PayloadCodec
	// Origins are the Web UI origins allowed by CORS, e.g.
	// http://127.0.0.1:8233; nothing else is.
	Origins []string
	// Auth checks every encode and decode. Nil turns authorization off:
	// only for a development machine, and only when chosen explicitly.
	Auth Authenticator
}

// Handler returns the codec server's HTTP handler.
func Handler(cfg Config) http.Handler {
	codec := converter.NewPayloadCodecHTTPHandler(cfg.Codec)
	guarded := cors(cfg.Origins, authorize(cfg.Auth, codec))
	mux := http.NewServeMux()
	for _, p := range []string{"/encode", "/decode", "/{namespace}/encode", "/{namespace}/decode"} {
		mux.Handle("POST "+p, guarded)
		mux.Handle("OPTIONS "+p, guarded)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return mux
}

// allowedHeaders are the request headers the Web UI and the CLI send.
const allowedHeaders = "Authorization, Content-Type, X-Namespace"

// cors answers preflights for the allowed origins and refuses a browser
// request from any other origin.
func cors(origins []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && slices.Contains(origins, origin)
		if origin != "" && !allowed {
			http.Error(w, "origin "+origin+" may not use this codec server: start it with --ui-origin "+origin+" if it is your Web UI", http.StatusForbidden)
			return
		}
		if allowed {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			if !allowed {
				http.Error(w, "a CORS preflight needs an Origin", http.StatusForbidden)
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", allowedHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorize lets a request through only with a credential auth accepts.
func authorize(auth Authenticator, next http.Handler) http.Handler {
	if auth == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := auth.Authorize(r.Context(), r.Header.Get("Authorization"))
		switch {
		case err == nil:
			next.ServeHTTP(w, r)
		case errors.Is(err, ErrUnauthorized):
			w.Header().Set("WWW-Authenticate", `Bearer realm="byokflow codec"`)
			http.Error(w, "unauthorized: send a valid IAM access token as 'Authorization: Bearer TOKEN' "+
				"(TEMPORAL_CODEC_AUTH for the Temporal CLI)", http.StatusUnauthorized)
		default:
			http.Error(w, "cannot check the access token now: "+err.Error()+": retry", http.StatusServiceUnavailable)
		}
	})
}

// bearer returns the token of an Authorization header value.
func bearer(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}
