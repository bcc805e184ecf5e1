package emulator

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// keyQuery is a parsed GET keys request.
type keyQuery struct {
	states      map[int]bool // nil: every state but Destroyed
	extractable *bool
	search      *searchQuery
	filters     []func(*key) bool
	order       []sortField
	ring        string
	limit       int
	offset      int
}

func handleListKeys(s *Server, k *kpCtx) *apiError {
	var out []keyJSON
	e := s.view(func() *apiError {
		if e := s.checkAccess(k, ""); e != nil {
			return e
		}
		q, e := s.parseKeyQuery(k.r.URL.Query(), k.r.Header.Get("X-Kms-Key-Ring"))
		if e != nil {
			return e
		}
		for _, kk := range page(s.selectKeys(k.inst, q), q.limit, q.offset) {
			out = append(out, s.renderKey(kk, false))
		}
		return nil
	})
	if e != nil {
		return e
	}
	writeCollection(k.w, http.StatusOK, keyType, out)
	return nil
}

func (s *Server) parseKeyQuery(v url.Values, ring string) (*keyQuery, *apiError) {
	q := &keyQuery{ring: ring}
	var e *apiError
	if q.limit, q.offset, e = paging(v); e != nil {
		return nil, e
	}
	if st, ok := v["state"]; ok {
		if q.states, e = stateQuery("state", st[0]); e != nil {
			return nil, e
		}
	}
	if q.extractable, e = boolQuery(v, "extractable"); e != nil {
		return nil, e
	}
	if sv, ok := v["search"]; ok {
		if q.search, e = parseSearch(sv[0]); e != nil {
			return nil, e
		}
	}
	if f, ok := v["filter"]; ok {
		if e = s.parseFilter(q, f[0]); e != nil {
			return nil, e
		}
	}
	if so, ok := v["sort"]; ok {
		if q.order, e = parseSort(so[0]); e != nil {
			return nil, e
		}
	}
	return q, nil
}

// selectKeys returns the instance's keys matching q, sorted.
func (s *Server) selectKeys(instanceID string, q *keyQuery) []*key {
	var keys []*key
	for _, kk := range s.st.Keys {
		if kk.InstanceID == instanceID && !s.autoPurged(kk) && s.keyMatches(kk, q) {
			keys = append(keys, kk)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return s.keyLess(keys[i], keys[j], q.order) })
	return keys
}

func (s *Server) keyMatches(kk *key, q *keyQuery) bool {
	st := s.stateOf(kk)
	if (q.states == nil && st == stateDestroyed) || (q.states != nil && !q.states[st]) {
		return false
	}
	if q.extractable != nil && kk.Extractable != *q.extractable {
		return false
	}
	if q.ring != "" && kk.KeyRingID != q.ring {
		return false
	}
	if q.search != nil && !q.search.matches(kk) {
		return false
	}
	for _, f := range q.filters {
		if !f(kk) {
			return false
		}
	}
	return true
}

// searchQuery is the search parameter: [not:][exact:][alias:][name:]
// [escape:]text, in any order of the prefixes.
type searchQuery struct {
	text                    string
	not, exact, alias, name bool
}

func parseSearch(v string) (*searchQuery, *apiError) {
	v = strings.TrimSuffix(v, ",") // the client appends one
	q := &searchQuery{}
	flags := map[string]*bool{"not:": &q.not, "exact:": &q.exact, "alias:": &q.alias, "name:": &q.name}
	for prefix := true; prefix; {
		prefix = false
		if rest, ok := strings.CutPrefix(v, "escape:"); ok {
			v = rest
			break
		}
		for p, f := range flags {
			if rest, ok := strings.CutPrefix(v, p); ok {
				*f, v, prefix = true, rest, true
			}
		}
	}
	if v == "" {
		return nil, queryErr("search", "a non-empty search text")
	}
	q.text = v
	return q, nil
}

func (q *searchQuery) matches(kk *key) bool {
	var fields []string
	if q.name || !q.alias {
		fields = append(fields, kk.Name)
	}
	if q.alias || !q.name {
		fields = append(fields, kk.aliasNames()...)
	}
	found := false
	for _, f := range fields {
		if (q.exact && f == q.text) || (!q.exact && strings.Contains(strings.ToLower(f), strings.ToLower(q.text))) {
			found = true
			break
		}
	}
	return found != q.not
}

func handleListVersions(s *Server, k *kpCtx) *apiError {
	var out []versionJSON
	var total int
	q := k.r.URL.Query()
	e := s.view(func() *apiError {
		kk, e := s.accessKey(k)
		if e != nil {
			return e
		}
		limit, offset, e := paging(q)
		if e != nil {
			return e
		}
		all, e := boolQuery(q, "allKeyStates")
		if e != nil {
			return e
		}
		if s.stateOf(kk) != stateActive && (all == nil || !*all) {
			return invalidState()
		}
		total = len(kk.Versions)
		for i := total - 1; i >= 0; i-- {
			out = append(out, renderVersion(kk.Versions[i]))
		}
		out = page(out, limit, offset)
		return nil
	})
	if e != nil {
		return e
	}
	meta := collectionMeta{CollectionType: versionType, CollectionTotal: len(out)}
	if tc, _ := boolQuery(q, "totalCount"); tc != nil && *tc {
		meta.TotalCount = &total
	}
	writeJSON(k.w, http.StatusOK, collection{Metadata: meta, Resources: nonNil(out)})
	return nil
}
