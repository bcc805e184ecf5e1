package emulator_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func authzOptions(svc *iampolicymanagementv1.IamPolicyManagementV1, env *emulatortest.Env, instance string) *iampolicymanagementv1.CreatePolicyOptions {
	res := []iampolicymanagementv1.ResourceAttribute{
		{Name: core.StringPtr("accountId"), Value: core.StringPtr(env.Dev.AccountID), Operator: core.StringPtr("stringEquals")},
		{Name: core.StringPtr("serviceName"), Value: core.StringPtr("kms"), Operator: core.StringPtr("stringEquals")},
	}
	if instance != "" {
		res = append(res, iampolicymanagementv1.ResourceAttribute{Name: core.StringPtr("serviceInstance"), Value: core.StringPtr(instance)})
	}
	return svc.NewCreatePolicyOptions("authorization",
		[]iampolicymanagementv1.PolicySubject{{Attributes: []iampolicymanagementv1.SubjectAttribute{
			{Name: core.StringPtr("accountId"), Value: core.StringPtr(env.Dev.AccountID)},
			{Name: core.StringPtr("serviceName"), Value: core.StringPtr(env.Dev.ServiceName)},
		}}},
		[]iampolicymanagementv1.PolicyRole{{RoleID: core.StringPtr("crn:v1:bluemix:public:iam::::serviceRole:Reader")}},
		[]iampolicymanagementv1.PolicyResource{{Attributes: res}},
	).SetDescription("step 2")
}

func TestIAMPolicies_CreateGetListDelete(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	svc := env.PolicyClient(t)
	opts := authzOptions(svc, env, env.Dev.KPInstanceID)
	p, resp, err := svc.CreatePolicy(opts)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.NotEmpty(t, resp.Headers.Get("ETag"))
	require.Equal(t, "active", *p.State)
	require.Equal(t, "step 2", *p.Description)
	require.Equal(t, "Reader", *p.Roles[0].DisplayName)
	require.Equal(t, env.URL+"/v1/policies/"+*p.ID, *p.Href)
	require.Equal(t, env.Dev.OperatorIAMID, *p.CreatedByID)
	require.NotNil(t, p.CreatedAt)
	require.Equal(t, mustJSON(t, opts.Subjects), mustJSON(t, p.Subjects), "subjects echo exactly")
	require.Equal(t, mustJSON(t, opts.Resources), mustJSON(t, p.Resources), "resources echo exactly")

	got, resp, err := svc.GetPolicy(svc.NewGetPolicyOptions(*p.ID))
	require.NoError(t, err)
	require.NotEmpty(t, resp.Headers.Get("ETag"))
	require.Equal(t, *p.ID, *got.ID)

	list, _, err := svc.ListPolicies(svc.NewListPoliciesOptions(env.Dev.AccountID).SetType("authorization"))
	require.NoError(t, err)
	require.Len(t, list.Policies, 1)
	none, _, err := svc.ListPolicies(svc.NewListPoliciesOptions(env.Dev.AccountID).SetType("access"))
	require.NoError(t, err)
	require.NotNil(t, none.Policies)
	require.Empty(t, none.Policies)

	resp, err = svc.DeletePolicy(svc.NewDeletePolicyOptions(*p.ID))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	_, resp, err = svc.GetPolicy(svc.NewGetPolicyOptions(*p.ID))
	requireIAMErr(t, err, resp, http.StatusNotFound, "policy_not_found")
}

func requireIAMErr(t *testing.T, err error, resp *core.DetailedResponse, status int, code string) {
	t.Helper()
	var problem *core.SDKProblem
	require.True(t, errors.As(err, &problem), "want SDK problem, got %v", err)
	require.NotNil(t, resp)
	require.Equal(t, status, resp.StatusCode)
	var body struct {
		Trace  string `json:"trace"`
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
		StatusCode int `json:"status_code"`
	}
	raw, _ := json.Marshal(resp.Result)
	require.NoError(t, json.Unmarshal(raw, &body), "%s", raw)
	require.Equal(t, code, body.Errors[0].Code)
	require.Equal(t, status, body.StatusCode)
	require.NotEmpty(t, body.Trace)
}

func TestIAMPolicies_Errors(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	svc := env.PolicyClient(t)
	_, _, err := svc.CreatePolicy(authzOptions(svc, env, env.Dev.KPInstanceID))
	require.NoError(t, err)
	_, resp, err := svc.CreatePolicy(authzOptions(svc, env, env.Dev.KPInstanceID))
	requireIAMErr(t, err, resp, http.StatusConflict, "policy_conflict_error")

	noAcct := authzOptions(svc, env, "")
	noAcct.Resources[0].Attributes = noAcct.Resources[0].Attributes[1:]
	_, resp, err = svc.CreatePolicy(noAcct)
	requireIAMErr(t, err, resp, http.StatusBadRequest, "invalid_body")

	badRole := authzOptions(svc, env, "other-instance")
	badRole.Roles[0].RoleID = core.StringPtr("Reader")
	_, resp, err = svc.CreatePolicy(badRole)
	requireIAMErr(t, err, resp, http.StatusBadRequest, "invalid_body")

	_, resp, err = svc.ListPolicies(svc.NewListPoliciesOptions("someone-else"))
	requireIAMErr(t, err, resp, http.StatusForbidden, "insufficent_permissions")
	resp, err = svc.DeletePolicy(svc.NewDeletePolicyOptions("no-such-policy"))
	requireIAMErr(t, err, resp, http.StatusNotFound, "policy_not_found")

	tok := env.Token(t, env.Dev.OperatorAPIKey)
	raw := env.Do(t, http.MethodGet, "/v1/policies", tok, nil, nil)
	require.Equal(t, http.StatusBadRequest, raw.Status)
	require.Contains(t, string(raw.Body), "missing_required_query_parameter")
	raw = env.Do(t, http.MethodGet, "/v1/policies?account_id="+env.Dev.AccountID, "bogus", nil, nil)
	require.Equal(t, http.StatusUnauthorized, raw.Status)
	require.Contains(t, string(raw.Body), "invalid_token")
	raw = env.Do(t, http.MethodPost, "/v1/policies", env.Token(t, env.Dev.ServiceAPIKey), "{}", nil)
	require.Equal(t, http.StatusForbidden, raw.Status, "service IDs cannot authorize themselves")
	raw = env.Do(t, http.MethodPut, "/v1/policies/x", tok, "{}", nil)
	require.Equal(t, http.StatusNotImplemented, raw.Status)
}

func TestIAMPolicies_ListPaging(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	svc := env.PolicyClient(t)
	for _, inst := range []string{"i1", "i2", "i3"} {
		_, _, err := svc.CreatePolicy(authzOptions(svc, env, inst))
		require.NoError(t, err)
	}
	first, _, err := svc.ListPolicies(svc.NewListPoliciesOptions(env.Dev.AccountID).SetLimit(2))
	require.NoError(t, err)
	require.Len(t, first.Policies, 2)
	require.NotNil(t, first.Next)
	second, _, err := svc.ListPolicies(svc.NewListPoliciesOptions(env.Dev.AccountID).SetLimit(2).SetStart(*first.Next.Start))
	require.NoError(t, err)
	require.Len(t, second.Policies, 1)
	require.Nil(t, second.Next)
}

func TestAPIKeyDetails_NamesIdentity(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	resp := env.Do(t, http.MethodGet, "/v1/apikeys/details", tok, nil, map[string]string{"IAM-ApiKey": env.Dev.ServiceAPIKey})
	require.Equal(t, http.StatusOK, resp.Status)
	var d struct {
		IAMID     string `json:"iam_id"`
		AccountID string `json:"account_id"`
	}
	resp.JSON(t, &d)
	require.Equal(t, env.Dev.ServiceIAMID, d.IAMID)
	require.Equal(t, env.Dev.AccountID, d.AccountID)
	require.NotContains(t, string(resp.Body), env.Dev.ServiceAPIKey)
}
