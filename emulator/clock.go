package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The emulator's clock is Config.Clock plus an offset that only moves
// forward: Advance (Go) and, with Config.DevClock, POST /admin/v1/clock
// (HTTP) add to it. Every time-based decision about keys reads s.now()
// (tokens read tokenNow): the enable, rotation, purge, restore,
// dual-authorization and sync guards, key expiration, policy rotation and the activity record's time.
// Injected faults are not Key Protect behaviour and keep the plain
// Config.Clock, so an outage window lasts its wall-clock time. The offset
// is saved with the state, so a restart on the same data directory keeps
// the same "now".

func (s *Server) now() time.Time { return s.cfg.Clock().Add(time.Duration(s.offset.Load())) }

// Now returns the emulator's current time: Config.Clock plus every
// Advance so far.
func (s *Server) Now() time.Time { return s.now() }

// tokenNow is the time tokens are issued and judged by: Config.Clock
// without the offset. The dev clock moves the keys' lifecycle (guards,
// windows, expiration, policy rotation); tokens live in the clients' own
// time, so a client keeps working across an advance, as it would across
// the months a real deployment lives through.
func (s *Server) tokenNow() time.Time { return s.cfg.Clock() }

// Advance moves the emulator's clock forward by d and returns the new
// time. Whatever falls due meanwhile (guards, windows, expiration,
// policy rotations) is what a request sees next; policy rotations are
// made at once, so the activity record shows them. The offset is saved
// with the state. d must not be negative: time does not go back.
func (s *Server) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("advance clock by %s: the clock only moves forward", d)
	}
	e := s.update(func() *apiError {
		s.st.ClockOffset += d
		s.offset.Store(int64(s.st.ClockOffset))
		return nil
	})
	if e != nil {
		return time.Time{}, fmt.Errorf("advance clock by %s: %s", d, e.message)
	}
	s.rotateByPolicy()
	return s.now(), nil
}

// clockJSON is the answer of /admin/v1/clock.
type clockJSON struct {
	Now    string `json:"now"`    // the emulator's time, RFC 3339 UTC
	Offset string `json:"offset"` // how far it is ahead of Config.Clock, a Go duration
}

// serveClock serves GET and POST /admin/v1/clock, a development aid that
// exists only with Config.DevClock (else 404 like any unknown path).
// POST {"advance":"720h"} moves the clock forward by a Go duration.
func serveClock(s *Server, w http.ResponseWriter, r *http.Request, _ []string) {
	if !s.cfg.DevClock {
		serveNotFound(s, w, r, nil)
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		d, msg := parseAdvance(r)
		if msg != "" {
			writeIAMError(w, http.StatusBadRequest, "invalid_body", msg)
			return
		}
		if _, err := s.Advance(d); err != nil {
			writeIAMError(w, http.StatusInternalServerError, "internal_error", err.Error())
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		writeIAMError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use GET or POST on /admin/v1/clock")
		return
	}
	writeJSON(w, http.StatusOK, clockJSON{Now: s.now().UTC().Format(time.RFC3339Nano), Offset: time.Duration(s.offset.Load()).String()})
}

// parseAdvance reads {"advance":"<Go duration>"}; the message is empty
// when the body is good.
func parseAdvance(r *http.Request) (time.Duration, string) {
	var req struct {
		Advance string `json:"advance"`
	}
	body, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || req.Advance == "" {
		return 0, `The body must be {"advance":"<Go duration, e.g. 720h>"}`
	}
	d, err := time.ParseDuration(req.Advance)
	if err != nil || d < 0 {
		return 0, "advance must be a Go duration of zero or more, e.g. 720h or 90m: got " + req.Advance
	}
	return d, ""
}
