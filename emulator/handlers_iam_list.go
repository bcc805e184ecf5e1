package emulator

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// Default and largest page of a policy list.
const (
	defaultPolicyLimit = 50
	maxPolicyLimit     = 100
)

func serveListPolicies(s *Server, w http.ResponseWriter, r *http.Request, _ []string) {
	q := r.URL.Query()
	s.mu.RLock()
	defer s.mu.RUnlock()
	ident := s.iamCaller(w, r, false)
	if ident == nil {
		return
	}
	acct := q.Get("account_id")
	if acct == "" {
		writeIAMError(w, http.StatusBadRequest, "missing_required_query_parameter", "account_id is a required query parameter")
		return
	}
	if acct != ident.AccountID {
		writeIAMError(w, http.StatusForbidden, "insufficent_permissions", "The caller cannot list the policies of account "+acct)
		return
	}
	limit, start, ok := policyPaging(q)
	if !ok {
		writeIAMError(w, http.StatusBadRequest, "invalid_query_parameter", "limit must be 1 to 100 and start a value returned in next")
		return
	}
	all := s.matchingPolicies(acct, q)
	out := policyList{Limit: limit, First: &pageLink{Href: listHref(r, q, "")}, Policies: []policyJSON{}}
	for _, p := range page(all, limit, start) {
		out.Policies = append(out.Policies, s.renderPolicy(r, p))
	}
	if next := start + limit; next < len(all) {
		out.Next = &pageLink{Href: listHref(r, q, strconv.Itoa(next)), Start: strconv.Itoa(next)}
	}
	if start > 0 {
		out.Previous = &pageLink{Href: listHref(r, q, strconv.Itoa(max(0, start-limit))), Start: strconv.Itoa(max(0, start-limit))}
	}
	writeJSON(w, http.StatusOK, out)
}

func policyPaging(q url.Values) (limit, start int, ok bool) {
	limit = defaultPolicyLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPolicyLimit {
			return 0, 0, false
		}
		limit = n
	}
	if v := q.Get("start"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		start = n
	}
	return limit, start, true
}

// matchingPolicies applies the type, iam_id, access_group_id,
// service_type and state filters, oldest first.
func (s *Server) matchingPolicies(acct string, q url.Values) []*iamPolicy {
	var out []*iamPolicy
	if st := q.Get("state"); st != "" && st != "active" {
		return out // deleted policies are forgotten
	}
	for _, p := range s.st.Policies {
		if p.AccountID == acct && policyFilter(p, q) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func policyFilter(p *iamPolicy, q url.Values) bool {
	if t := q.Get("type"); t != "" && t != p.Type {
		return false
	}
	for _, name := range []string{"iam_id", "access_group_id"} {
		if want := q.Get(name); want != "" {
			if v, _ := p.parsed.subject.get(name); v != want {
				return false
			}
		}
	}
	switch q.Get("service_type") {
	case "service":
		_, ok := p.parsed.resource.get("serviceName")
		return ok
	case "platform_service":
		v, _ := p.parsed.resource.get("serviceType")
		return v == "platform_service"
	}
	return true
}

func listHref(r *http.Request, q url.Values, start string) string {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	c.Del("start")
	if start != "" {
		c.Set("start", start)
	}
	return baseURL(r) + "/v1/policies?" + c.Encode()
}
