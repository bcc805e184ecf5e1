package emulator

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// injectFault applies the configured faults to one request and reports
// whether it answered the request.
func (s *Server) injectFault(w *statusWriter, r *http.Request, rt route) bool {
	f := s.faults.Load()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	switch {
	case f.inOutage(s.now()):
		s.writeFault(w, r, rt, http.StatusServiceUnavailable)
	case f.Rate429 > 0 && rand.Float64() < f.Rate429:
		s.writeFault(w, r, rt, http.StatusTooManyRequests)
	case f.Rate503 > 0 && rand.Float64() < f.Rate503:
		s.writeFault(w, r, rt, http.StatusServiceUnavailable)
	default:
		return false
	}
	return true
}

// writeFault answers with the error shape of the API that was called.
func (s *Server) writeFault(w *statusWriter, r *http.Request, rt route, status int) {
	w.Header().Set("Retry-After", "1")
	msg := "Injected fault: the emulator is configured to fail this request"
	switch rt.kind {
	case kindToken:
		writeTokenError(w, r, status, "BXNIM0001E", msg)
	case kindKP, kindAdmin:
		code := codeUnavailable
		if status == http.StatusTooManyRequests {
			code = codeTooManyRequests
		}
		w.reason = code
		writeKPError(w, newErr(status, code, msg), "Request could not be served")
	default:
		code := "service_unavailable"
		if status == http.StatusTooManyRequests {
			code = "too_many_requests"
		}
		writeIAMError(w, status, code, msg)
	}
	s.log.Debug("fault injected", "op", rt.op, "status", status)
}
