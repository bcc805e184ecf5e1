package emulator

import (
	"net/http"
	"time"
)

// Key states (spec §3.1).
const (
	stateActive      = 1
	stateSuspended   = 2
	stateDeactivated = 3
	stateDestroyed   = 5
)

// autoPurgeAfter is when the real service purges a deleted key by itself.
const autoPurgeAfter = 90 * 24 * time.Hour

// keyOp is an operation of the spec §3.2 matrix.
type keyOp int

const (
	opWrap keyOp = iota
	opUnwrap
	opRotate
	opDisable
	opEnable
	opDualAuth
	opDelete
	opRestore
	opPurge
	opModify // policies, aliases, key ring moves
)

// stateOf is the key's state now: an Active or Suspended key whose
// expiration date has passed is Deactivated.
func (s *Server) stateOf(k *key) int {
	if (k.State == stateActive || k.State == stateSuspended) && k.Expiration != nil && !s.now().Before(*k.Expiration) {
		return stateDeactivated
	}
	return k.State
}

// settle stores the expiry transition; the caller holds the write lock.
func (s *Server) settle(k *key) {
	if st := s.stateOf(k); st != k.State {
		k.State = st
		k.StateChanged = *k.Expiration
	}
}

// autoPurged reports whether a deleted key is past the automatic purge.
func (s *Server) autoPurged(k *key) bool {
	return k.Deleted != nil && s.now().Sub(k.Deleted.At) >= autoPurgeAfter
}

// matrix holds, per operation, the states (as bits 1<<state) where it
// may run; Destroyed is handled apart.
var matrix = map[keyOp]uint8{
	opWrap:     1 << stateActive,
	opUnwrap:   1<<stateActive | 1<<stateDeactivated,
	opRotate:   1<<stateActive | 1<<stateDeactivated,
	opDisable:  1 << stateActive,
	opEnable:   1 << stateSuspended,
	opDualAuth: 1 << stateActive,
	opDelete:   1<<stateActive | 1<<stateSuspended | 1<<stateDeactivated,
	opModify:   1<<stateActive | 1<<stateSuspended | 1<<stateDeactivated,
}

// allowed is the §3.2 matrix: nil when op may run in state st. On a
// Destroyed key everything but restore and purge is 410 KEY_DELETED_ERR;
// restore and purge need a Destroyed key.
func allowed(op keyOp, st int) *apiError {
	if op == opRestore || op == opPurge {
		if st == stateDestroyed {
			return nil
		}
		return invalidState()
	}
	if st == stateDestroyed {
		return keyDeleted()
	}
	if matrix[op]&(1<<st) != 0 {
		return nil
	}
	e := invalidState()
	switch op {
	case opDisable:
		e.what = "Key is not in active state: Key could not be disabled"
	case opEnable:
		e.what = "Key is not in suspended state: Key could not be enabled"
	}
	return e
}

// guard returns REQ_TOO_EARLY_ERR when less than d passed since t.
func (s *Server) guard(t time.Time, d time.Duration) *apiError {
	if d > 0 && s.now().Sub(t) < d {
		return tooEarly()
	}
	return nil
}

func conflict(code, msg string) *apiError { return newErr(http.StatusConflict, code, msg) }
