package emulator

import (
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

type apiKind int

const (
	kindOther apiKind = iota
	kindToken
	kindIAM
	kindKP
	kindAdmin // the emulator's own /admin routes: Key Protect auth and error shapes, not recorded
)

// kpHandler serves one Key Protect route; it writes the success answer
// itself and returns an error for the router to write.
type kpHandler func(s *Server, k *kpCtx) *apiError

// rawHandler serves a non-Key Protect route completely.
type rawHandler func(s *Server, w http.ResponseWriter, r *http.Request, args []string)

type route struct {
	op   string
	kind apiKind
	what string // Key Protect: "Key could not be deleted"
	need access // Key Protect: the access the caller needs
	kp   kpHandler
	raw  rawHandler
	args []string
	// keyArg: args[0] names a key (ID or alias), for the activity record.
	keyArg bool
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.rotateByPolicy() // the state a request sees is the one at its time
	sw := &statusWriter{ResponseWriter: w}
	rt := resolve(r)
	s.stats.inc(rt.op)
	s.answer(sw, r, rt)
	if rt.kind == kindKP {
		s.recordActivity(r, rt, sw)
	}
	s.log.Debug("request", "op", rt.op, "method", r.Method, "path", r.URL.Path,
		"status", sw.status, "duration", time.Since(start))
	if sw.discard {
		s.loseAnswer(w, rt.op)
	}
}

// answer answers the request with an injected fault or its handler.
func (s *Server) answer(sw *statusWriter, r *http.Request, rt route) {
	defer s.recoverPanic(sw, r, rt)
	if id := r.Header.Get("Correlation-Id"); id != "" && len(id) <= maxHeaderKept {
		sw.Header().Set("Correlation-Id", id)
	}
	if rt.op == OpClock { // a test's control, not a service: never faulted or dropped
		s.dispatch(sw, r, rt)
		return
	}
	if !s.injectFault(sw, r, rt) {
		sw.discard = s.drops.take(rt.op)
		s.dispatch(sw, r, rt)
	}
}

func (s *Server) dispatch(w *statusWriter, r *http.Request, rt route) {
	if rt.kp != nil {
		s.serveKP(w, r, rt)
		return
	}
	rt.raw(s, w, r, rt.args)
}

// recoverPanic turns a handler bug into a logged 500 instead of a crash.
func (s *Server) recoverPanic(w *statusWriter, r *http.Request, rt route) {
	if v := recover(); v != nil {
		s.log.Error("handler panic", "op", rt.op, "method", r.Method, "path", r.URL.Path,
			"panic", v, "stack", string(debug.Stack()))
		w.reason = codeInternal
		writeJSON(w, http.StatusInternalServerError, internalErr().envelope("Request could not be served"))
	}
}

// splitPath splits an escaped path into unescaped segments, ignoring
// empty ones so that a doubled slash is harmless.
func splitPath(escaped string) ([]string, bool) {
	var segs []string
	for _, p := range strings.Split(escaped, "/") {
		if p == "" {
			continue
		}
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		segs = append(segs, u)
	}
	return segs, true
}

// resolve maps a request to its route.
func resolve(r *http.Request) route {
	segs, ok := splitPath(r.URL.EscapedPath())
	if !ok {
		return route{op: OpNotFound, raw: serveNotFound}
	}
	for i := 0; i+1 < len(segs); i++ {
		if segs[i] == "api" && segs[i+1] == "v2" {
			return kpRoute(r.Method, segs[i+2:], r.URL.Query())
		}
	}
	return otherRoute(r.Method, segs)
}

func otherRoute(method string, segs []string) route {
	switch {
	case len(segs) == 2 && (segs[0] == "identity" || segs[0] == "oidc") && segs[1] == "token":
		return route{op: OpToken, kind: kindToken, raw: serveToken}
	case len(segs) == 2 && segs[0] == "identity" && segs[1] == "introspect":
		return route{op: OpIntrospect, kind: kindToken, raw: serveIntrospect}
	case len(segs) == 1 && segs[0] == "healthz":
		return route{op: OpHealth, raw: serveHealth}
	case len(segs) >= 1 && segs[0] == "v1":
		return iamRoute(method, segs[1:])
	case len(segs) == 3 && segs[0] == "admin" && segs[1] == "v1" && segs[2] == "clock":
		return route{op: OpClock, raw: serveClock}
	case len(segs) == 3 && segs[0] == "admin" && segs[1] == "v1" && segs[2] == "activity":
		if method == http.MethodGet {
			return route{op: OpActivity, kind: kindAdmin, what: "Activity could not be listed", need: accAudit, kp: handleActivity}
		}
		return route{op: OpNotImplemented, kind: kindAdmin, what: "Request could not be served", kp: handleNotImplemented}
	}
	return route{op: OpNotFound, raw: serveNotFound}
}

func serveHealth(_ *Server, w http.ResponseWriter, _ *http.Request, _ []string) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func serveNotFound(_ *Server, w http.ResponseWriter, r *http.Request, _ []string) {
	writeIAMError(w, http.StatusNotFound, "not_found", "No such endpoint: "+r.Method+" "+r.URL.Path)
}
