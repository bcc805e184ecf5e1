package emulator

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
)

func (s *Server) keyCRN(k *key) string {
	inst := s.st.Instances[k.InstanceID]
	return fmt.Sprintf("crn:v1:bluemix:public:kms:%s:a/%s:%s:key:%s", s.cfg.Region, inst.AccountID, inst.ID, k.ID)
}

func (s *Server) policyCRN(k *key, policyID string) string {
	inst := s.st.Instances[k.InstanceID]
	return fmt.Sprintf("crn:v1:bluemix:public:kms:%s:a/%s:%s:policy:%s", s.cfg.Region, inst.AccountID, inst.ID, policyID)
}

// renderKey is the key resource; payload is read from the latest version
// when withPayload is set and the key is a standard key.
func (s *Server) renderKey(k *key, withPayload bool) keyJSON {
	bits := s.bitSize(k)
	j := keyJSON{
		Type: keyType, ID: k.ID, Name: k.Name, Description: k.Description,
		Aliases: k.aliasNames(), Tags: k.Tags, State: s.stateOf(k),
		Extractable: k.Extractable, Imported: k.Imported, CRN: s.keyCRN(k),
		KeyRingID: k.KeyRingID, CreatedBy: k.CreatedBy,
		CreationDate: stamp(k.Created), LastUpdateDate: stamp(k.Updated),
		LastRotateDate: stampPtr(k.LastRotate), ExpirationDate: stampPtr(k.Expiration),
		AlgorithmType:     "AES",
		AlgorithmMetadata: algorithmMeta{BitLength: strconv.Itoa(bits), Mode: "Deprecated"},
		AlgorithmBitSize:  bits, AlgorithmMode: "Deprecated",
		KeyVersion:     renderVersion(k.latest()),
		DualAuthDelete: s.renderDualAuth(k),
	}
	if k.Rotation != nil {
		j.Rotation = &rotationJSON{Enabled: k.Rotation.Enabled, IntervalMonth: k.Rotation.IntervalMonth}
	}
	if k.Deleted != nil {
		s.renderDeletion(k, &j)
	}
	if withPayload && k.Extractable && k.Deleted == nil {
		j.Payload = s.payloadOf(k)
	}
	return j
}

func (s *Server) bitSize(k *key) int {
	if k.Extractable {
		return 256
	}
	if n := k.latest().aeadKeyBits; n != 0 {
		return n
	}
	return 256
}

func renderVersion(v *keyVersion) versionJSON {
	return versionJSON{ID: v.ID, CreationDate: stampPtr(&v.Created)}
}

func (s *Server) renderDualAuth(k *key) dualAuthJSON {
	d := dualAuthJSON{Enabled: k.DualAuth != nil && k.DualAuth.Enabled}
	if !d.Enabled {
		return d
	}
	set := s.dualAuthValid(k)
	d.KeySetForDeletion = &set
	if set && !k.DualAuthSet.Expires.IsZero() {
		d.AuthExpiration = stampPtr(&k.DualAuthSet.Expires)
	}
	return d
}

// dualAuthValid reports whether a set-for-deletion authorization is open.
func (s *Server) dualAuthValid(k *key) bool {
	m := k.DualAuthSet
	return m != nil && (m.Expires.IsZero() || s.now().Before(m.Expires))
}

func (s *Server) renderDeletion(k *key, j *keyJSON) {
	d := k.Deleted
	j.Deleted = true
	j.DeletionDate = stampPtr(&d.At)
	j.DeletedBy = d.By
	now := s.now()
	restoreOK := s.cfg.Timing.RestoreWindow == 0 || now.Sub(d.At) < s.cfg.Timing.RestoreWindow
	j.RestoreAllowed = &restoreOK
	if w := s.cfg.Timing.RestoreWindow; w > 0 {
		j.RestoreExpirationDate = stampPtr(ptr(d.At.Add(w)))
	}
	from := d.At.Add(s.cfg.Timing.PurgeDelay)
	j.PurgeAllowed = ptr(!now.Before(from))
	j.PurgeAllowedFrom = stampPtr(&from)
	j.PurgeScheduledOn = stampPtr(ptr(d.At.Add(autoPurgeAfter)))
}

// payloadOf decrypts a standard key's material for GET.
func (s *Server) payloadOf(k *key) string {
	v := k.latest()
	m, err := openMaterial(s.master, k.ID, v.ID, v.Sealed)
	if err != nil {
		s.log.Error("open standard key material", "key", k.ID, "err", err)
		return ""
	}
	defer clear(m)
	return base64.StdEncoding.EncodeToString(m)
}

// expiresAt parses an expirationDate; it must lie in the future.
func (s *Server) expiresAt(v *string) (*time.Time, *apiError) {
	if v == nil || *v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil {
		return nil, fieldErr("expirationDate", "an RFC 3339 date and time")
	}
	if !t.After(s.now()) {
		return nil, fieldErr("expirationDate", "a date and time in the future")
	}
	t = t.UTC()
	return &t, nil
}
