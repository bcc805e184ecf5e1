package activities

import (
	"path"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
)

// roleReader is the IAM service role the DBaaS service needs on Key Protect.
const roleReader = "crn:v1:bluemix:public:iam::::serviceRole:Reader"

// readerOrAbove are the Key Protect service roles that include Reader's
// actions (wrap, unwrap, rewrap, reads).
var readerOrAbove = []string{roleReader,
	"crn:v1:bluemix:public:iam::::serviceRole:ReaderPlus",
	"crn:v1:bluemix:public:iam::::serviceRole:Writer",
	"crn:v1:bluemix:public:iam::::serviceRole:Manager"}

// authzTarget is the step-2 authorization policy byokflow needs: source
// service ServiceName of AccountID, target Key Protect instance KPInstanceID.
type authzTarget struct {
	AccountID    string
	ServiceName  string
	KPInstanceID string
}

// grantsKeyAccess reports whether p is an active authorization policy that
// lets every instance of the service read keys of the Key Protect instance:
//
//   - subject: serviceName = the service, accountId = the account (when
//     given), and nothing narrower (no serviceInstance, resource group…);
//   - resource: serviceName = kms, accountId = the account (when given),
//     serviceInstance = the instance or absent (every instance of the
//     account), and nothing narrower (no single key);
//   - a role of Reader or above.
//
// Attribute values are compared exactly, or as a glob for stringMatch.
func grantsKeyAccess(p iampolicymanagementv1.PolicyTemplateMetaData, t authzTarget) bool {
	if deref(p.Type) != "authorization" || (p.State != nil && *p.State != "active") {
		return false
	}
	if len(p.Subjects) != 1 || len(p.Resources) != 1 || !hasReaderRole(p.Roles) {
		return false
	}
	return subjectMatches(p.Subjects[0].Attributes, t) && resourceMatches(p.Resources[0].Attributes, t)
}

func subjectMatches(attrs []iampolicymanagementv1.SubjectAttribute, t authzTarget) bool {
	service := false
	for _, a := range attrs {
		switch deref(a.Name) {
		case "serviceName":
			service = deref(a.Value) == t.ServiceName
		case "accountId":
			if deref(a.Value) != t.AccountID {
				return false
			}
		default:
			return false // narrower than the whole service
		}
	}
	return service
}

func resourceMatches(attrs []iampolicymanagementv1.ResourceAttribute, t authzTarget) bool {
	kms := false
	for _, a := range attrs {
		var want string
		switch deref(a.Name) {
		case "serviceName":
			want, kms = "kms", true
		case "accountId":
			want = t.AccountID
		case "serviceInstance":
			want = t.KPInstanceID
		default:
			return false // narrower than the instance, or unknown
		}
		if !attrMatches(deref(a.Operator), deref(a.Value), want) {
			return false
		}
	}
	return kms
}

// attrMatches applies an IAM resource attribute operator.
func attrMatches(operator, value, want string) bool {
	switch operator {
	case "", "stringEquals":
		return value == want
	case "stringMatch":
		ok, err := path.Match(value, want)
		return err == nil && ok
	}
	return false
}

func hasReaderRole(roles []iampolicymanagementv1.PolicyRole) bool {
	for _, r := range roles {
		for _, ok := range readerOrAbove {
			if deref(r.RoleID) == ok {
				return true
			}
		}
	}
	return false
}

// authorizationPolicy is the create request of the policy t describes.
func authorizationPolicy(t authzTarget) *iampolicymanagementv1.CreatePolicyOptions {
	eq := core.StringPtr("stringEquals")
	return &iampolicymanagementv1.CreatePolicyOptions{
		Type: core.StringPtr("authorization"),
		Subjects: []iampolicymanagementv1.PolicySubject{{Attributes: []iampolicymanagementv1.SubjectAttribute{
			{Name: core.StringPtr("accountId"), Value: core.StringPtr(t.AccountID)},
			{Name: core.StringPtr("serviceName"), Value: core.StringPtr(t.ServiceName)},
		}}},
		Roles: []iampolicymanagementv1.PolicyRole{{RoleID: core.StringPtr(roleReader)}},
		Resources: []iampolicymanagementv1.PolicyResource{{Attributes: []iampolicymanagementv1.ResourceAttribute{
			{Name: core.StringPtr("accountId"), Value: core.StringPtr(t.AccountID), Operator: eq},
			{Name: core.StringPtr("serviceName"), Value: core.StringPtr("kms"), Operator: eq},
			{Name: core.StringPtr("serviceInstance"), Value: core.StringPtr(t.KPInstanceID), Operator: eq},
		}}},
		Description: core.StringPtr("byokflow: lets " + t.ServiceName + " use keys of Key Protect instance " + t.KPInstanceID),
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
