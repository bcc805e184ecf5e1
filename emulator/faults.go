package emulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
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
	case f.inOutage(s.cfg.Clock()): // wall-clock, not moved by Advance
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
	s.faulted.inc(rt.op)
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

// drops holds the answers to lose: how many of the next requests of an
// operation are performed and then left without an answer.
type drops struct {
	mu      sync.Mutex
	pending map[string]int
	dropped map[string]int64
}

// DropResponses makes the next n requests of op (an Op* constant) lose
// their answer: each is performed in full (state changed and saved, the
// activity recorded) and then its connection is closed without any HTTP
// response, as when the network loses the answer. The client sees a
// connection error (EOF or reset). Injected faults come first: a request
// answered with a fault is not dropped. n = 0 cancels pending drops.
func (s *Server) DropResponses(op string, n int) error {
	if !slices.Contains(allOps, op) || n < 0 {
		return fmt.Errorf("drop responses: unknown operation %q or negative count %d", op, n)
	}
	s.drops.mu.Lock()
	defer s.drops.mu.Unlock()
	if s.drops.pending == nil {
		s.drops.pending = map[string]int{}
	}
	s.drops.pending[op] = n
	return nil
}

// DroppedResponses returns how many answers of each operation were
// dropped since start (or ResetStats); operations never dropped are absent.
func (s *Server) DroppedResponses() map[string]int64 {
	s.drops.mu.Lock()
	defer s.drops.mu.Unlock()
	out := map[string]int64{}
	for op, n := range s.drops.dropped {
		out[op] = n
	}
	return out
}

// take reports whether this request of op loses its answer, and counts it.
func (d *drops) take(op string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending[op] == 0 {
		return false
	}
	d.pending[op]--
	if d.dropped == nil {
		d.dropped = map[string]int64{}
	}
	d.dropped[op]++
	return true
}

func (d *drops) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropped = nil
}

// loseAnswer closes the connection of a performed request without
// writing anything (its handler wrote into a discarding statusWriter).
func (s *Server) loseAnswer(w http.ResponseWriter, op string) {
	s.log.Debug("answer dropped", "op", op)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2, or a wrapper that cannot hijack: net/http closes the
		// connection (or resets the stream) of an aborted handler.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
