package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Registrations tie a root key to the cloud resources it protects. Users
// may only list them; services (with an authorization policy) create,
// update and delete them.

func handleListRegistrations(s *Server, k *kpCtx) *apiError {
	q := k.r.URL.Query()
	limit, offset, e := paging(q)
	if e != nil {
		return e
	}
	prevent, e := boolQuery(q, "preventKeyDeletion")
	if e != nil {
		return e
	}
	pattern := crnQuery(q.Get("urlEncodedResourceCRNQuery"))
	var out []registrationJSON
	e = s.view(func() *apiError {
		keys, e := s.registrationKeys(k)
		if e != nil {
			return e
		}
		for _, kk := range keys {
			for _, r := range kk.Registrations {
				if (pattern == "" || globMatch(pattern, r.ResourceCRN)) && (prevent == nil || *prevent == r.PreventKeyDeletion) {
					out = append(out, renderRegistration(kk, r))
				}
			}
		}
		return nil
	})
	if e != nil {
		return e
	}
	sort.SliceStable(out, func(i, j int) bool {
		return time.Time(out[i].CreationDate).Before(time.Time(out[j].CreationDate))
	})
	writeCollection(k.w, http.StatusOK, registrationType, page(out, limit, offset))
	return nil
}

// crnQuery accepts the CRN pattern once or twice URL-encoded.
func crnQuery(v string) string {
	if strings.Contains(v, "%") {
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
	}
	return v
}

// registrationKeys is the one key named in the path, or every key of the
// instance.
func (s *Server) registrationKeys(k *kpCtx) ([]*key, *apiError) {
	if len(k.args) > 0 {
		kk, e := s.accessKey(k)
		if e != nil {
			return nil, e
		}
		return []*key{kk}, nil
	}
	if e := s.checkAccess(k, ""); e != nil {
		return nil, e
	}
	var keys []*key
	for _, kk := range s.st.Keys {
		if kk.InstanceID == k.inst && !s.autoPurged(kk) {
			keys = append(keys, kk)
		}
	}
	return keys, nil
}

func renderRegistration(kk *key, r *registration) registrationJSON {
	v := kk.version(r.KeyVersionID)
	if v == nil {
		v = kk.latest()
	}
	return registrationJSON{
		KeyID: kk.ID, ResourceCRN: r.ResourceCRN, CreatedBy: r.CreatedBy, CreationDate: stamp(r.Created),
		UpdatedBy: r.UpdatedBy, LastUpdated: stamp(r.Updated), Description: r.Description,
		PreventKeyDeletion: r.PreventKeyDeletion, KeyVersion: renderVersion(v), RegistrationMetadata: r.Metadata,
	}
}

// parseRegistration accepts the registration body bare or in an envelope.
func parseRegistration(body []byte) (*registrationReq, *apiError) {
	var probe struct {
		registrationReq
		Resources []json.RawMessage `json:"resources"`
	}
	if _, e := decodeJSON(body, &probe); e != nil {
		return nil, e
	}
	if probe.Resources == nil {
		return &probe.registrationReq, nil
	}
	raws, e := parseEnvelope(body)
	if e != nil {
		return nil, e
	}
	if len(raws) != 1 {
		return nil, badBody("exactly one registration resource is required")
	}
	req := new(registrationReq)
	if _, e := decodeJSON(raws[0], req); e != nil {
		return nil, e
	}
	return req, nil
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	if !bodyPresent(raw) {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return nil
	}
	return buf.Bytes()
}

func regNotFound(crn string) *apiError {
	return newErr(http.StatusNotFound, codeRegNotFound, "No registration exists for resource "+crn+" on this key")
}

func regVersionInvalid() *apiError {
	return newErr(http.StatusUnprocessableEntity, codeKeyVersionInvalid,
		"This request requires that the key version is later than current registration key version")
}

// registrationVersion checks a requested key version: a version of the
// key, not older than the registration's current one.
func registrationVersion(kk *key, current string, requested *string) (string, *apiError) {
	if requested == nil || *requested == "" {
		return current, nil
	}
	idx := func(id string) int {
		for i, v := range kk.Versions {
			if v.ID == id {
				return i
			}
		}
		return -1
	}
	n := idx(*requested)
	if n < 0 || (current != "" && n < idx(current)) {
		return "", regVersionInvalid()
	}
	return *requested, nil
}
