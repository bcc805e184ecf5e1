package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// attr is one subject or resource attribute of an IAM policy.
type attr struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Operator string `json:"operator,omitempty"`
}

type attrSet []attr

// parsedPolicy is the part of a policy the emulator evaluates.
type parsedPolicy struct {
	subject  attrSet
	resource attrSet
}

type policyPart struct {
	Attributes []rawAttr `json:"attributes"`
	Tags       []rawAttr `json:"tags,omitempty"`
}

type rawAttr struct {
	Name     string          `json:"name"`
	Value    json.RawMessage `json:"value"`
	Operator string          `json:"operator"`
}

// parsePolicyParts checks and parses the subjects and resources arrays:
// exactly one of each, every attribute a name and a string value.
func parsePolicyParts(subjects, resources json.RawMessage) (*parsedPolicy, error) {
	sub, err := parsePart("subjects", subjects)
	if err != nil {
		return nil, err
	}
	res, err := parsePart("resources", resources)
	if err != nil {
		return nil, err
	}
	return &parsedPolicy{subject: sub, resource: res}, nil
}

func parsePart(name string, raw json.RawMessage) (attrSet, error) {
	var parts []policyPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, fmt.Errorf("%s must be an array of objects with attributes", name)
	}
	if len(parts) != 1 || len(parts[0].Attributes) == 0 {
		return nil, fmt.Errorf("%s must hold exactly one entry with at least one attribute", name)
	}
	set := make(attrSet, 0, len(parts[0].Attributes))
	for _, a := range parts[0].Attributes {
		var v string
		if a.Name == "" || json.Unmarshal(a.Value, &v) != nil || v == "" {
			return nil, fmt.Errorf("every attribute of %s needs a name and a non-empty string value", name)
		}
		set = append(set, attr{Name: a.Name, Value: v, Operator: a.Operator})
	}
	return set, nil
}

func (s attrSet) get(name string) (string, bool) {
	for _, a := range s {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// allows reports whether the attribute name, when present, admits want;
// an absent attribute admits everything.
func (s attrSet) allows(name, want string) bool {
	for _, a := range s {
		if a.Name != name {
			continue
		}
		if a.Operator == "stringMatch" {
			return globMatch(a.Value, want)
		}
		return a.Value == want
	}
	return true
}

// canonical is an order-independent rendering used to find duplicates.
func (s attrSet) canonical() string {
	parts := make([]string, len(s))
	for i, a := range s {
		parts[i] = a.Name + "\x00" + a.Operator + "\x00" + a.Value
	}
	sort.Strings(parts)
	return strings.Join(parts, "\x01")
}

// validatePolicy applies IAM's rules for the policy type.
func validatePolicy(typ string, p *parsedPolicy) error {
	if _, ok := p.resource.get("accountId"); !ok {
		return errors.New("resources must include the attribute accountId")
	}
	switch typ {
	case "authorization":
		if _, ok := p.subject.get("accountId"); !ok {
			return errors.New("subjects of an authorization policy must include accountId")
		}
		_, hasSvc := p.subject.get("serviceName")
		_, hasRG := p.subject.get("resourceGroupId")
		if !hasSvc && !hasRG {
			return errors.New("subjects of an authorization policy must include serviceName or resourceGroupId")
		}
	case "access":
		_, hasIAM := p.subject.get("iam_id")
		_, hasGroup := p.subject.get("access_group_id")
		if !hasIAM && !hasGroup {
			return errors.New("subjects of an access policy must include iam_id or access_group_id")
		}
	default:
		return fmt.Errorf("type must be access or authorization, not %q", typ)
	}
	return nil
}

// roleName returns the display name of a role CRN such as
// crn:v1:bluemix:public:iam::::serviceRole:Reader.
func roleName(roleID string) (string, bool) {
	if !strings.HasPrefix(roleID, "crn:v1:") {
		return "", false
	}
	i := strings.LastIndexByte(roleID, ':')
	kind := roleID[:i]
	if !strings.HasSuffix(kind, ":serviceRole") && !strings.HasSuffix(kind, ":role") {
		return "", false
	}
	name := roleID[i+1:]
	return name, name != ""
}

// serviceRoleRank is the best Key Protect service role of a policy.
func (p *iamPolicy) serviceRoleRank() int {
	best := 0
	for _, id := range p.RoleIDs {
		name, _ := roleName(id)
		if strings.Contains(id, ":serviceRole:") && roleRank[name] > best {
			best = roleRank[name]
		}
	}
	return best
}

// targetsInstance reports whether the policy's resource covers the Key
// Protect instance (and key, when the policy is narrowed to one).
func (s *Server) targetsInstance(p *iamPolicy, inst *instance, keyID string) bool {
	res := p.parsed.resource
	if !res.allows("accountId", inst.AccountID) || !res.allows("serviceName", "kms") ||
		!res.allows("serviceInstance", inst.ID) || !res.allows("region", s.cfg.Region) {
		return false
	}
	if _, ok := res.get("resourceType"); ok {
		return res.allows("resourceType", "key") && keyID != "" && res.allows("resource", keyID)
	}
	return true
}

// serviceAuthorized reports whether an active authorization policy lets
// the service ID's service read the instance.
func (s *Server) serviceAuthorized(ident *identity, inst *instance, keyID string) bool {
	for _, p := range s.st.Policies {
		if p.AccountID != inst.AccountID || p.Type != "authorization" || p.serviceRoleRank() < 1 {
			continue
		}
		sub := p.parsed.subject
		if v, _ := sub.get("serviceName"); v != ident.ServiceName {
			continue
		}
		if v, _ := sub.get("accountId"); v != inst.AccountID {
			continue
		}
		if s.targetsInstance(p, inst, keyID) {
			return true
		}
	}
	return false
}

// userRole is the user's best role on the instance, from AddUser and from
// IAM access policies.
func (s *Server) userRole(ident *identity, inst *instance) string {
	best := ident.Roles[inst.ID]
	for _, p := range s.st.Policies {
		if p.AccountID != inst.AccountID || p.Type != "access" {
			continue
		}
		if v, _ := p.parsed.subject.get("iam_id"); v != ident.IAMID || !s.targetsInstance(p, inst, "") {
			continue
		}
		for name, rank := range roleRank {
			if rank == p.serviceRoleRank() && rank > roleRank[best] {
				best = name
			}
		}
	}
	return best
}

// globMatch matches s against a pattern where '*' stands for any run of
// characters; nothing else is special.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}
