package emulator

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"time"
)

// Instance policy types (spec §2.15).
var instancePolicyTypes = map[string]bool{
	policyDualAuth: true, policyRotation: true, "allowedNetwork": true,
	"allowedIP": true, "metrics": true, "keyCreateImportAccess": true,
}

type instanceAttrs struct {
	IntervalMonth     *int     `json:"interval_month"`
	AllowedNetwork    *string  `json:"allowed_network"`
	AllowedIP         []string `json:"allowed_ip"`
	CreateRootKey     *bool    `json:"create_root_key"`
	CreateStandardKey *bool    `json:"create_standard_key"`
	ImportRootKey     *bool    `json:"import_root_key"`
	ImportStandardKey *bool    `json:"import_standard_key"`
	EnforceToken      *bool    `json:"enforce_token"`
}

type instancePolicyReq struct {
	PolicyType string             `json:"policy_type"`
	PolicyData instancePolicyData `json:"policy_data"`
}

func (p *instancePolicy) attrs() instanceAttrs {
	var a instanceAttrs
	_ = json.Unmarshal(p.Attributes, &a) // validated when stored
	return a
}

func (p *instancePolicy) intervalMonth() int {
	if a := p.attrs(); a.IntervalMonth != nil {
		return *a.IntervalMonth
	}
	return 1
}

func handleGetInstancePolicies(s *Server, k *kpCtx) *apiError {
	which := k.r.URL.Query().Get("policy")
	if which != "" && !instancePolicyTypes[which] {
		return queryErr("policy", "one of dualAuthDelete, rotation, allowedNetwork, allowedIP, metrics, keyCreateImportAccess")
	}
	var out []instancePolicyJSON
	e := s.view(func() *apiError {
		if e := s.checkAccess(k, ""); e != nil {
			return e
		}
		for _, p := range s.st.Instances[k.inst].Policies {
			if which == "" || p.Type == which {
				out = append(out, renderInstancePolicy(p))
			}
		}
		return nil
	})
	if e != nil {
		return e
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PolicyType < out[j].PolicyType })
	writeCollection(k.w, http.StatusOK, policyType, out)
	return nil
}

func renderInstancePolicy(p *instancePolicy) instancePolicyJSON {
	return instancePolicyJSON{
		PolicyType: p.Type, PolicyData: instancePolicyData{Enabled: ptr(p.Enabled), Attributes: p.Attributes},
		CreatedBy: p.CreatedBy, CreationDate: stamp(p.Created), UpdatedBy: p.UpdatedBy, LastUpdated: stamp(p.Updated),
	}
}

func handlePutInstancePolicies(s *Server, k *kpCtx) *apiError {
	which := k.r.URL.Query().Get("policy")
	if which != "" && !instancePolicyTypes[which] {
		return queryErr("policy", "one of dualAuthDelete, rotation, allowedNetwork, allowedIP, metrics, keyCreateImportAccess")
	}
	e := s.update(func() *apiError {
		if e := s.checkAccess(k, ""); e != nil {
			return e
		}
		reqs, e := parseInstancePolicies(k.body, which)
		if e != nil {
			return e
		}
		inst := s.st.Instances[k.inst]
		if inst.Policies == nil {
			inst.Policies = map[string]*instancePolicy{}
		}
		now := s.now()
		for _, r := range reqs {
			inst.Policies[r.PolicyType] = mergeInstancePolicy(inst.Policies[r.PolicyType], r, k.c.IAMID, now)
		}
		return nil
	})
	if e != nil {
		return e
	}
	writeNoContent(k.w)
	return nil
}

func parseInstancePolicies(body []byte, which string) ([]instancePolicyReq, *apiError) {
	raws, e := parseEnvelope(body)
	if e != nil {
		return nil, e
	}
	if which != "" && len(raws) != 1 {
		return nil, newErr(http.StatusBadRequest, codeNumCollection,
			"Only a single instance policy may be created per query parameter: Please pass single resource object")
	}
	if len(raws) == 0 {
		return nil, badBody("No resources section was provided")
	}
	seen := map[string]bool{}
	var out []instancePolicyReq
	for _, raw := range raws {
		var r instancePolicyReq
		if _, e := decodeJSON(raw, &r); e != nil {
			return nil, e
		}
		if which != "" && r.PolicyType != which {
			return nil, newErr(http.StatusBadRequest, codeBodyQueryMismatch, "Data in body does not match data required by query parameter")
		}
		if seen[r.PolicyType] {
			return nil, badBody("Only one of each policy can be created")
		}
		if e := validateInstancePolicy(r); e != nil {
			return nil, e
		}
		seen[r.PolicyType] = true
		out = append(out, r)
	}
	return out, nil
}

func validateInstancePolicy(r instancePolicyReq) *apiError {
	if !instancePolicyTypes[r.PolicyType] {
		return fieldErr("policy_type", "one of dualAuthDelete, rotation, allowedNetwork, allowedIP, metrics, keyCreateImportAccess")
	}
	if r.PolicyData.Enabled == nil {
		return fieldErr("policy_data.enabled", "true or false")
	}
	var a instanceAttrs
	if bodyPresent(r.PolicyData.Attributes) {
		if _, e := decodeJSON(r.PolicyData.Attributes, &a); e != nil {
			return e
		}
	}
	if !*r.PolicyData.Enabled {
		return nil
	}
	switch r.PolicyType {
	case policyRotation:
		return validInterval(a.IntervalMonth, true)
	case "allowedNetwork":
		if a.AllowedNetwork == nil || (*a.AllowedNetwork != "public-and-private" && *a.AllowedNetwork != "private-only") {
			return fieldErr("allowed_network", "public-and-private or private-only")
		}
	case "allowedIP":
		return validCIDRs(a.AllowedIP)
	}
	return nil
}

func validCIDRs(list []string) *apiError {
	if len(list) == 0 {
		return fieldErr("allowed_ip", "a non-empty list of CIDR ranges")
	}
	for _, c := range list {
		if _, _, err := net.ParseCIDR(c); err != nil {
			return fieldErr("allowed_ip", "a non-empty list of CIDR ranges")
		}
	}
	return nil
}

func mergeInstancePolicy(p *instancePolicy, r instancePolicyReq, by string, now time.Time) *instancePolicy {
	if p == nil {
		p = &instancePolicy{Type: r.PolicyType, CreatedBy: by, Created: now}
	}
	p.Enabled, p.UpdatedBy, p.Updated = *r.PolicyData.Enabled, by, now
	p.Attributes = nil
	if bodyPresent(r.PolicyData.Attributes) {
		var buf bytes.Buffer
		if json.Compact(&buf, r.PolicyData.Attributes) == nil {
			p.Attributes = buf.Bytes()
		}
	}
	return p
}

// checkCreateAccess applies the keyCreateImportAccess instance policy.
func checkCreateAccess(inst *instance, extractable, imported bool) *apiError {
	p := inst.Policies["keyCreateImportAccess"]
	if p == nil || !p.Enabled {
		return nil
	}
	a := p.attrs()
	flag := map[[2]bool]*bool{
		{false, false}: a.CreateRootKey, {true, false}: a.CreateStandardKey,
		{false, true}: a.ImportRootKey, {true, true}: a.ImportStandardKey,
	}[[2]bool{extractable, imported}]
	if flag != nil && !*flag {
		return conflict(codeCreateImportAccess, "KeyCreateImportAccess instance policy does not allow this action")
	}
	return nil
}
