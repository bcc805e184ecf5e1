package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// The activity record stands in for the Activity Tracker events of Key
// Protect: one record per Key Protect request, answered, refused,
// faulted or dropped. It names who did what to which key and how it
// ended, and never holds a secret (no token, API key, payload, plaintext
// or ciphertext).

// ActivityRecord is one Key Protect request.
type ActivityRecord struct {
	Time          time.Time `json:"time"`          // when the answer was made, UTC
	InstanceID    string    `json:"instanceId"`    // Bluemix-Instance as sent
	IAMID         string    `json:"iamId"`         // the bearer token's identity; empty if none verified
	Action        string    `json:"action"`        // the route's Op* constant, e.g. "rotate"
	KeyID         string    `json:"keyId"`         // the key's ID (aliases resolved); empty if the request names none
	CorrelationID string    `json:"correlationId"` // the Correlation-Id header as sent
	Status        int       `json:"status"`        // the HTTP status answered (or, dropped, that would have been)
	Reason        string    `json:"reason"`        // the Key Protect reason code of an error answer
	Outcome       string    `json:"outcome"`       // "success" (status below 400) or "failure"
}

// ActivityFilter selects records; an empty field matches anything.
type ActivityFilter struct {
	InstanceID    string
	KeyID         string
	CorrelationID string
	Action        string
}

func (f ActivityFilter) match(r *ActivityRecord) bool {
	return (f.InstanceID == "" || f.InstanceID == r.InstanceID) &&
		(f.KeyID == "" || f.KeyID == r.KeyID) &&
		(f.CorrelationID == "" || f.CorrelationID == r.CorrelationID) &&
		(f.Action == "" || f.Action == r.Action)
}

// Activity returns the kept records (the last 100 000) that match f,
// oldest first.
func (s *Server) Activity(f ActivityFilter) []ActivityRecord { return s.activity.list(f) }

const (
	activityFile  = "activity.jsonl" // one ActivityRecord per line, oldest first
	activityLimit = 100_000          // records kept, in memory and on disk
	maxHeaderKept = 128              // bytes of Bluemix-Instance and Correlation-Id kept
)

// recordActivity appends the record of a Key Protect request once it is
// answered.
func (s *Server) recordActivity(r *http.Request, rt route, sw *statusWriter) {
	rec := ActivityRecord{
		Time: s.now().UTC(), InstanceID: clip(r.Header.Get("Bluemix-Instance")), IAMID: sw.iamID,
		Action: rt.op, KeyID: sw.keyID, CorrelationID: clip(r.Header.Get("Correlation-Id")),
		Status: sw.status, Reason: sw.reason, Outcome: "success",
	}
	if rec.Status == 0 {
		rec.Status = http.StatusOK
	}
	if rec.Status >= 400 {
		rec.Outcome = "failure"
	}
	if rec.IAMID == "" { // a fault answered before the token was read
		if c, err := s.bearer(r); err == nil {
			rec.IAMID = c.IAMID
		}
	}
	if rec.KeyID == "" && rt.keyArg {
		rec.KeyID = rt.args[0]
	}
	s.activity.add(rec)
}

func clip(h string) string { return h[:min(len(h), maxHeaderKept)] }

// activityLog keeps the records in memory and, with a data directory, in
// activity.jsonl: each record is appended (without fsync, so a host crash
// may lose the last ones) and the file is rewritten atomically to the last
// limit records whenever it reaches twice that.
type activityLog struct {
	mu    sync.Mutex
	limit int
	recs  []ActivityRecord // oldest first; up to 2*limit, of which the last limit count
	dir   string
	f     *os.File // append handle; nil when memory-only or closed
	log   *slog.Logger
}

func openActivity(dir string, limit int, log *slog.Logger) (*activityLog, error) {
	a := &activityLog{limit: limit, dir: dir, log: log}
	if dir == "" {
		return a, nil
	}
	recs, err := readActivity(filepath.Join(dir, activityFile), log)
	if err != nil {
		return nil, err
	}
	a.recs = recs
	if err := a.rewrite(); err != nil {
		return nil, err
	}
	return a, nil
}

// readActivity reads the records of path; a line that does not parse (a
// torn last line after a crash) is skipped.
func readActivity(path string, log *slog.Logger) ([]ActivityRecord, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read activity record: %w", err)
	}
	var recs []ActivityRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxBody)
	for sc.Scan() {
		var r ActivityRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			log.Warn("activity record: skipped a line that does not parse", "file", path)
			continue
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read activity record %s: %w", path, err)
	}
	return recs, nil
}

func (a *activityLog) add(r ActivityRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, r)
	if len(a.recs) >= 2*a.limit {
		if err := a.rewrite(); err != nil {
			a.log.Error("activity record: rewrite", "err", err)
		}
		return
	}
	if a.f == nil {
		return
	}
	line, _ := json.Marshal(r) // strings, ints and a time: cannot fail
	if _, err := a.f.Write(append(line, '\n')); err != nil {
		a.log.Error("activity record: append", "err", err)
	}
}

// rewrite keeps the last limit records and, with a data directory,
// replaces the file with them and reopens it for appending. The caller
// holds a.mu (or owns a).
func (a *activityLog) rewrite() error {
	a.recs = slices.Clone(a.recs[max(0, len(a.recs)-a.limit):])
	if a.dir == "" {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range a.recs {
		enc.Encode(&a.recs[i]) // cannot fail, as in add
	}
	if a.f != nil {
		a.f.Close()
		a.f = nil
	}
	if err := writeFileAtomic(a.dir, activityFile, buf.Bytes(), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(a.dir, activityFile), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open activity record: %w", err)
	}
	a.f = f
	return nil
}

func (a *activityLog) list(f ActivityFilter) []ActivityRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []ActivityRecord
	for i := max(0, len(a.recs)-a.limit); i < len(a.recs); i++ {
		if f.match(&a.recs[i]) {
			out = append(out, a.recs[i])
		}
	}
	return out
}

// close syncs and closes the file; later records stay in memory only.
func (a *activityLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Sync()
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	a.f = nil
	if err != nil {
		return fmt.Errorf("close activity record: %w", err)
	}
	return nil
}

// handleActivity serves GET /admin/v1/activity: the records of the
// Bluemix-Instance, to users with a role on it.
func handleActivity(s *Server, k *kpCtx) *apiError {
	if e := s.view(func() *apiError { return s.checkAccess(k, "") }); e != nil {
		return e
	}
	q := k.r.URL.Query()
	recs := s.Activity(ActivityFilter{InstanceID: k.inst, KeyID: q.Get("keyId"),
		CorrelationID: q.Get("correlationId"), Action: q.Get("action")})
	writeJSON(k.w, http.StatusOK, struct {
		Records []ActivityRecord `json:"records"`
	}{nonNil(recs)})
	return nil
}
