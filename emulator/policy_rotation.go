package emulator

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Rotation by policy: a root key whose rotation policy is enabled with
// interval_month N is rotated by Key Protect itself N calendar months
// after its last rotation (or its creation). The emulator makes those
// rotations lazily but exactly: before it serves any request (and when
// Advance moves the clock), it adds every version that has fallen due by
// now, one per elapsed interval, each created at its due moment, as a
// service that never stopped would have. Rules, the emulator's reading of
// the real service:
//
//   - Only generated root keys rotate by policy: an imported key has no
//     material Key Protect could make (its policy is stored and shown, but
//     never acts).
//   - Only while the key is Active: a suspended, expired or deleted key is
//     skipped. One that becomes Active again (enable, restore) and is
//     overdue rotates at that moment, then every N months from there.
//   - Never before the policy was (last) set: enabling a policy on an
//     overdue key rotates it at the moment the policy was set.
//   - A rotation by policy counts as a rotation: it moves lastRotateDate,
//     so the one-rotation-per-hour guard applies to a manual rotate after
//     it, and the next policy rotation is N months later.

// PolicyIAMID is the iamId of the activity records of rotations made by
// a rotation policy: Key Protect itself, not a user.
const PolicyIAMID = "kms-policy"

// nextPolicyRotation is when the key's rotation policy rotates it next;
// false when it never will in its present state.
func nextPolicyRotation(k *key) (time.Time, bool) {
	p := k.Rotation
	if p == nil || !p.Enabled || p.IntervalMonth < 1 || k.Extractable || k.Imported || k.State != stateActive {
		return time.Time{}, false
	}
	anchor := k.Created
	if k.LastRotate != nil {
		anchor = *k.LastRotate
	}
	due := anchor.AddDate(0, p.IntervalMonth, 0)
	due = latest(due, k.StateChanged, p.Updated)
	if k.Expiration != nil && !due.Before(*k.Expiration) {
		return time.Time{}, false // expired (Deactivated) by then
	}
	return due, true
}

func latest(t time.Time, others ...time.Time) time.Time {
	for _, o := range others {
		if o.After(t) {
			t = o
		}
	}
	return t
}

// rotateByPolicy makes the policy rotations due by now, saves the state
// and records them. It is cheap when nothing is due: one atomic load.
func (s *Server) rotateByPolicy() {
	if s.now().UnixNano() < s.nextDue.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := s.now()
	var recs []ActivityRecord
	for _, k := range s.st.Keys {
		recs = append(recs, s.rotateKeyByPolicy(k, now)...)
	}
	if len(recs) == 0 {
		s.planPolicyRotations()
		return
	}
	if e := s.commit(); e != nil {
		s.log.Error("save policy rotations", "rotations", len(recs))
	}
	slices.SortFunc(recs, func(a, b ActivityRecord) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.KeyID, b.KeyID)
	})
	for _, r := range recs {
		s.activity.add(r)
	}
	s.log.Info("rotated keys by policy", "rotations", len(recs))
}

// rotateKeyByPolicy adds the key's versions due by now; the caller holds
// the write lock.
func (s *Server) rotateKeyByPolicy(k *key, now time.Time) []ActivityRecord {
	var recs []ActivityRecord
	for {
		due, ok := nextPolicyRotation(k)
		if !ok || due.After(now) {
			return recs
		}
		material, e := keyMaterial("", false)
		if e == nil {
			e = s.addVersion(k, newUUID(), material, due)
			clear(material)
		}
		if e != nil {
			s.log.Error("rotate key by policy", "key", k.ID)
			return recs
		}
		k.LastRotate, k.Updated = &due, latest(k.Updated, due)
		recs = append(recs, ActivityRecord{
			Time: due.UTC(), InstanceID: k.InstanceID, IAMID: PolicyIAMID, Action: OpRotate,
			KeyID: k.ID, Status: http.StatusNoContent, Outcome: "success",
		})
	}
}

// planPolicyRotations stores the earliest next policy rotation of all
// keys, which rotateByPolicy compares with the clock; the caller holds
// s.mu.
func (s *Server) planPolicyRotations() {
	next := int64(math.MaxInt64)
	for _, k := range s.st.Keys {
		if due, ok := nextPolicyRotation(k); ok {
			next = min(next, due.UnixNano())
		}
	}
	s.nextDue.Store(next)
}
