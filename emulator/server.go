package emulator

import (
	"crypto/cipher"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
)

// Server is one emulator: IAM and Key Protect state plus their HTTP
// handler. It is safe for concurrent use.
type Server struct {
	cfg      Config
	log      *slog.Logger
	master   cipher.AEAD
	tokens   *tokens
	stats    *stats
	faulted  *stats // requests answered with an injected fault
	faults   atomic.Pointer[Faults]
	activity *activityLog
	drops    drops
	offset   atomic.Int64 // the clock's offset (ns), a copy of st.ClockOffset
	nextDue  atomic.Int64 // Unix ns of the earliest policy rotation due

	mu     sync.RWMutex // guards st
	st     *store
	closed bool
}

// New opens (or creates) the emulator state in cfg.DataDir, or an empty
// memory-only state when DataDir is empty.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, stats: newStats(), faulted: newStats()}
	if err := s.loadSecrets(); err != nil {
		return nil, err
	}
	st, err := readState(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := s.unsealAll(st); err != nil {
		return nil, err
	}
	s.st = st
	s.offset.Store(int64(st.ClockOffset))
	s.planPolicyRotations()
	if s.activity, err = openActivity(cfg.DataDir, activityLimit, s.log); err != nil {
		return nil, err
	}
	s.SetFaults(cfg.Faults)
	s.log.Info("emulator state loaded", "data_dir", cfg.DataDir, "keys", len(st.Keys),
		"identities", len(st.Identities), "policies", len(st.Policies))
	return s, nil
}

func (s *Server) loadSecrets() error {
	mk, err := loadOrCreateSecret(s.cfg.DataDir, masterKeyFile)
	if err != nil {
		return err
	}
	if s.master, err = newGCM(mk); err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	tk, err := loadOrCreateSecret(s.cfg.DataDir, tokenKeyFile)
	if err != nil {
		return err
	}
	s.tokens = &tokens{secret: tk}
	return nil
}

// unsealAll prepares the AEAD of every root key version, so wrap and
// unwrap never decrypt material on the request path.
func (s *Server) unsealAll(st *store) error {
	for _, k := range st.Keys {
		if k.Extractable {
			continue
		}
		for _, v := range k.Versions {
			if err := s.prepareVersion(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) prepareVersion(k *key, v *keyVersion) error {
	material, err := openMaterial(s.master, k.ID, v.ID, v.Sealed)
	if err != nil {
		return err
	}
	a, err := newGCM(material)
	v.aeadKeyBits = 8 * len(material)
	clear(material)
	if err != nil {
		return fmt.Errorf("key %s version %s: %w", k.ID, v.ID, err)
	}
	v.aead = a
	return nil
}

// Handler returns the HTTP handler serving IAM and Key Protect.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// SetFaults replaces the injected faults; it takes effect on the next
// request.
func (s *Server) SetFaults(f Faults) { s.faults.Store(&f) }

// Faults returns the faults in effect.
func (s *Server) Faults() Faults { return *s.faults.Load() }

// Close marks the server closed; later mutating requests are refused.
// The state is already on disk: every change is written when made. The
// activity record is synced to disk; later records stay in memory.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return s.activity.close()
}

// update runs fn under the write lock and saves the state when fn
// succeeds. fn must validate before it changes anything.
func (s *Server) update(fn func() *apiError) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return newErr(http.StatusServiceUnavailable, codeUnavailable, "The emulator has been closed")
	}
	if e := fn(); e != nil {
		return e
	}
	return s.commit()
}

// view runs fn under the read lock.
func (s *Server) view(fn func() *apiError) *apiError {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn()
}

// commit writes the state after a change and plans the next policy
// rotation; the caller holds s.mu.
func (s *Server) commit() *apiError {
	s.planPolicyRotations()
	if s.cfg.DataDir == "" {
		return nil
	}
	data, err := json.Marshal(s.st)
	if err == nil {
		err = writeFileAtomic(s.cfg.DataDir, stateFile, data, 0o600)
	}
	if err != nil {
		s.log.Error("save state", "err", err)
		return internalErr()
	}
	return nil
}
