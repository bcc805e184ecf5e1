package activities

import (
	"testing"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
	"github.com/stretchr/testify/require"
)

var testTarget = authzTarget{AccountID: "acct", ServiceName: "hyperp-dbaas-postgresql", KPInstanceID: "kp-1"}

// policyOf builds a policy from name=value pairs; a resource value may
// carry an operator as "operator:value".
func policyOf(subject, resource map[string]string, roles ...string) iampolicymanagementv1.PolicyTemplateMetaData {
	p := iampolicymanagementv1.PolicyTemplateMetaData{ID: core.StringPtr("p1"), Type: core.StringPtr("authorization"),
		State: core.StringPtr("active")}
	var sub []iampolicymanagementv1.SubjectAttribute
	for n, v := range subject {
		sub = append(sub, iampolicymanagementv1.SubjectAttribute{Name: core.StringPtr(n), Value: core.StringPtr(v)})
	}
	var res []iampolicymanagementv1.ResourceAttribute
	for n, v := range resource {
		op, val := "stringEquals", v
		if v == "*" || v == "kp-*" {
			op = "stringMatch"
		}
		res = append(res, iampolicymanagementv1.ResourceAttribute{Name: core.StringPtr(n), Value: core.StringPtr(val),
			Operator: core.StringPtr(op)})
	}
	p.Subjects = []iampolicymanagementv1.PolicySubject{{Attributes: sub}}
	p.Resources = []iampolicymanagementv1.PolicyResource{{Attributes: res}}
	for _, r := range roles {
		p.Roles = append(p.Roles, iampolicymanagementv1.PolicyRole{RoleID: core.StringPtr(r)})
	}
	return p
}

func TestGrantsKeyAccess_Cases(t *testing.T) {
	sub := map[string]string{"accountId": "acct", "serviceName": "hyperp-dbaas-postgresql"}
	res := map[string]string{"accountId": "acct", "serviceName": "kms", "serviceInstance": "kp-1"}
	with := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{}
		for a, b := range m {
			out[a] = b
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	writer := "crn:v1:bluemix:public:iam::::serviceRole:Writer"
	tests := []struct {
		name string
		p    iampolicymanagementv1.PolicyTemplateMetaData
		want bool
	}{
		{"exact policy", policyOf(sub, res, roleReader), true},
		{"every kms instance of the account", policyOf(sub, with(res, "serviceInstance", ""), roleReader), true},
		{"instance glob", policyOf(sub, with(res, "serviceInstance", "kp-*"), roleReader), true},
		{"a higher role", policyOf(sub, res, writer), true},
		{"no account in subject", policyOf(with(sub, "accountId", ""), res, roleReader), true},
		{"another service", policyOf(with(sub, "serviceName", "cloud-object-storage"), res, roleReader), false},
		{"one source instance only", policyOf(with(sub, "serviceInstance", "src-1"), res, roleReader), false},
		{"another account", policyOf(with(sub, "accountId", "other"), res, roleReader), false},
		{"another kms instance", policyOf(sub, with(res, "serviceInstance", "kp-2"), roleReader), false},
		{"hs-crypto target", policyOf(sub, with(res, "serviceName", "hs-crypto"), roleReader), false},
		{"no target service", policyOf(sub, with(res, "serviceName", ""), roleReader), false},
		{"one key only", policyOf(sub, with(res, "resourceType", "key"), roleReader), false},
		{"platform role only", policyOf(sub, res, "crn:v1:bluemix:public:iam::::role:Viewer"), false},
		{"no role", policyOf(sub, res), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, grantsKeyAccess(tt.p, testTarget))
		})
	}
}

func TestGrantsKeyAccess_RequiresActiveAuthorizationPolicy(t *testing.T) {
	sub := map[string]string{"accountId": "acct", "serviceName": "hyperp-dbaas-postgresql"}
	res := map[string]string{"accountId": "acct", "serviceName": "kms"}
	p := policyOf(sub, res, roleReader)
	require.True(t, grantsKeyAccess(p, testTarget))

	deleted := policyOf(sub, res, roleReader)
	deleted.State = core.StringPtr("deleted")
	require.False(t, grantsKeyAccess(deleted, testTarget))
	access := policyOf(sub, res, roleReader)
	access.Type = core.StringPtr("access")
	require.False(t, grantsKeyAccess(access, testTarget))
}

// The policy byokflow creates is one it recognises.
func TestAuthorizationPolicy_IsRecognised(t *testing.T) {
	opts := authorizationPolicy(testTarget)
	p := iampolicymanagementv1.PolicyTemplateMetaData{ID: core.StringPtr("new"), Type: opts.Type,
		Subjects: opts.Subjects, Roles: opts.Roles, Resources: opts.Resources}

	require.True(t, grantsKeyAccess(p, testTarget))
	require.False(t, grantsKeyAccess(p, authzTarget{AccountID: "acct", ServiceName: "hyperp-dbaas-postgresql", KPInstanceID: "kp-2"}))
}
