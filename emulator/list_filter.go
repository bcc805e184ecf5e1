package emulator

import (
	"strings"
	"time"
)

// dateFields are the key dates the filter and sort parameters know.
var dateFields = map[string]func(*key) *time.Time{
	"creationDate":   func(k *key) *time.Time { return &k.Created },
	"lastUpdateDate": func(k *key) *time.Time { return &k.Updated },
	"lastRotateDate": func(k *key) *time.Time { return k.LastRotate },
	"expirationDate": func(k *key) *time.Time { return k.Expiration },
	"deletionDate": func(k *key) *time.Time {
		if k.Deleted == nil {
			return nil
		}
		return &k.Deleted.At
	},
}

// parseFilter reads the filter parameter: space-separated terms
// field=clauses, where a date field's clauses are none or
// [gt:|gte:|lt:|lte:]"RFC 3339 date", state a list and extractable a bool.
func (s *Server) parseFilter(q *keyQuery, v string) *apiError {
	for _, term := range strings.Fields(v) {
		name, val, ok := strings.Cut(term, "=")
		if !ok {
			return queryErr("filter", `space-separated terms field=value`)
		}
		f, e := s.filterTerm(q, name, val)
		if e != nil {
			return e
		}
		if f != nil {
			q.filters = append(q.filters, f)
		}
	}
	return nil
}

func (s *Server) filterTerm(q *keyQuery, name, val string) (func(*key) bool, *apiError) {
	switch name {
	case "state":
		states, e := stateQuery("filter", val)
		if e != nil {
			return nil, e
		}
		if q.states == nil {
			q.states = states
			return nil, nil
		}
		return func(k *key) bool { return states[s.stateOf(k)] }, nil
	case "extractable":
		b := val == "true"
		if val != "true" && val != "false" {
			return nil, queryErr("filter", "extractable=true or extractable=false")
		}
		return func(k *key) bool { return k.Extractable == b }, nil
	}
	get, ok := dateFields[name]
	if !ok {
		return nil, queryErr("filter", "terms on creationDate, lastUpdateDate, lastRotateDate, expirationDate, deletionDate, state or extractable")
	}
	clauses, e := parseDateClauses(val)
	if e != nil {
		return nil, e
	}
	return func(k *key) bool { return allClauses(clauses, get(k)) }, nil
}

type dateClause struct {
	op string // none, eq, gt, gte, lt, lte
	t  time.Time
}

func parseDateClauses(v string) ([]dateClause, *apiError) {
	bad := queryErr("filter", `date clauses none or [gt:|gte:|lt:|lte:]"RFC 3339 date"`)
	var out []dateClause
	for v != "" {
		if rest, ok := strings.CutPrefix(v, "none"); ok {
			out, v = append(out, dateClause{op: "none"}), rest
			continue
		}
		c := dateClause{op: "eq"}
		if i := strings.IndexByte(v, ':'); i > 0 && v[0] != '"' {
			c.op, v = v[:i], v[i+1:]
		}
		if c.op != "eq" && c.op != "gt" && c.op != "gte" && c.op != "lt" && c.op != "lte" {
			return nil, bad
		}
		if len(v) < 2 || v[0] != '"' {
			return nil, bad
		}
		end := strings.IndexByte(v[1:], '"')
		if end < 0 {
			return nil, bad
		}
		t, err := time.Parse(time.RFC3339Nano, v[1:1+end])
		if err != nil {
			return nil, bad
		}
		c.t, v = t, v[end+2:]
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, bad
	}
	return out, nil
}

func allClauses(cs []dateClause, t *time.Time) bool {
	for _, c := range cs {
		if !c.holds(t) {
			return false
		}
	}
	return true
}

func (c dateClause) holds(t *time.Time) bool {
	if c.op == "none" || t == nil {
		return c.op == "none" && t == nil
	}
	switch c.op {
	case "gt":
		return t.After(c.t)
	case "gte":
		return !t.Before(c.t)
	case "lt":
		return t.Before(c.t)
	case "lte":
		return !t.After(c.t)
	}
	return t.Equal(c.t)
}

type sortField struct {
	name string
	desc bool
}

var sortable = map[string]bool{"id": true, "state": true, "extractable": true, "imported": true,
	"creationDate": true, "lastUpdateDate": true, "lastRotateDate": true, "deletionDate": true, "expirationDate": true}

func parseSort(v string) ([]sortField, *apiError) {
	var out []sortField
	for _, f := range strings.Split(v, ",") {
		sf := sortField{name: strings.TrimPrefix(f, "-"), desc: strings.HasPrefix(f, "-")}
		if !sortable[sf.name] {
			return nil, queryErr("sort", "a comma-separated list of id, state, extractable, imported, creationDate, lastUpdateDate, lastRotateDate, deletionDate, expirationDate, each optionally prefixed with -")
		}
		out = append(out, sf)
	}
	return out, nil
}

// keyLess orders keys by the sort fields, then by creation and ID.
func (s *Server) keyLess(a, b *key, order []sortField) bool {
	for _, f := range order {
		if c := s.compareField(a, b, f.name); c != 0 {
			return (c < 0) != f.desc
		}
	}
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.ID < b.ID
}

func (s *Server) compareField(a, b *key, name string) int {
	switch name {
	case "id":
		return strings.Compare(a.ID, b.ID)
	case "state":
		return s.stateOf(a) - s.stateOf(b)
	case "extractable":
		return boolCmp(a.Extractable, b.Extractable)
	case "imported":
		return boolCmp(a.Imported, b.Imported)
	}
	get := dateFields[name]
	ta, tb := get(a), get(b)
	switch {
	case ta == nil && tb == nil:
		return 0
	case ta == nil:
		return -1
	case tb == nil:
		return 1
	}
	return ta.Compare(*tb)
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
