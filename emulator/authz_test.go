package emulator_test

import (
	"net/http"
	"strings"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestServiceAuthorization_FollowsPolicy(t *testing.T) {
	env := emulatortest.Start(t)
	k := rootKey(t, env.OperatorClient(t), "db-root")
	svc := env.ServiceClient(t)
	aad := []string{"inst", "node"}

	_, err := svc.Wrap(ctx, k.ID, b64(dek(1)), &aad)
	e := requireKPErr(t, err, http.StatusForbidden, "UNAUTHORIZED_SERVICE")
	require.Contains(t, e.Reasons[0].Message, env.Dev.ServiceName)

	id := env.AuthorizeService(t)
	ct, err := svc.Wrap(ctx, k.ID, b64(dek(1)), &aad)
	require.NoError(t, err)
	pt, err := svc.Unwrap(ctx, k.ID, ct, &aad)
	require.NoError(t, err)
	require.Equal(t, b64(dek(1)), pt)
	_, err = svc.GetKeyMetadata(ctx, k.ID)
	require.NoError(t, err, "reads are allowed to an authorized service")

	pc := env.PolicyClient(t)
	_, err = pc.DeletePolicy(pc.NewDeletePolicyOptions(id))
	require.NoError(t, err)
	_, err = svc.Unwrap(ctx, k.ID, ct, &aad)
	requireKPErr(t, err, http.StatusForbidden, "UNAUTHORIZED_SERVICE")
	_, err = svc.Wrap(ctx, k.ID, b64(dek(1)), &aad)
	requireKPErr(t, err, http.StatusForbidden, "UNAUTHORIZED_SERVICE")
}

func TestServiceAuthorization_AccountWidePolicy(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	k := rootKey(t, env.OperatorClient(t), "db-root")
	pc := env.PolicyClient(t)
	_, _, err := pc.CreatePolicy(authzOptions(pc, env, ""))
	require.NoError(t, err)
	_, err = env.ServiceClient(t).Wrap(ctx, k.ID, b64(dek(1)), nil)
	require.NoError(t, err, "a policy without serviceInstance covers every kms instance")
}

func TestServiceAuthorization_OtherInstancePolicyDoesNotCount(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	k := rootKey(t, env.OperatorClient(t), "db-root")
	pc := env.PolicyClient(t)
	_, _, err := pc.CreatePolicy(authzOptions(pc, env, "some-other-instance"))
	require.NoError(t, err)
	_, err = env.ServiceClient(t).Wrap(ctx, k.ID, b64(dek(1)), nil)
	requireKPErr(t, err, http.StatusForbidden, "UNAUTHORIZED_SERVICE")
}

func TestServiceAuthorization_NoKeyAdministration(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.AuthorizeService(t)
	k := rootKey(t, env.OperatorClient(t), "db-root")
	svc := env.ServiceClient(t)
	calls := map[string]func() error{
		"create":  func() error { _, err := svc.CreateRootKey(ctx, "mine", nil); return err },
		"rotate":  func() error { return svc.Rotate(ctx, k.ID, "") },
		"disable": func() error { return svc.DisableKey(ctx, k.ID) },
		"delete":  func() error { _, err := svc.DeleteKey(ctx, k.ID, kp.ReturnMinimal); return err },
		"policy":  func() error { _, err := svc.SetRotationPolicy(ctx, k.ID, 1); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { requireKPErr(t, call(), http.StatusForbidden, "INSUFFICIENT_ROLE_ERR") })
	}
}

func TestUserRoles_Enforced(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	s, acct, inst := env.Server, env.Dev.AccountID, env.Dev.KPInstanceID
	require.NoError(t, s.AddUser(acct, "reader-key", "IBMid-reader", map[string]string{inst: "Reader"}))
	require.NoError(t, s.AddUser(acct, "writer-key", "IBMid-writer", map[string]string{inst: "Writer"}))
	require.NoError(t, s.AddUser(acct, "nobody-key", "IBMid-nobody", nil))
	k := rootKey(t, env.OperatorClient(t), "owned")
	reader, writer, nobody := env.KPClient(t, "reader-key", inst), env.KPClient(t, "writer-key", inst), env.KPClient(t, "nobody-key", inst)

	_, err := reader.GetKey(ctx, k.ID)
	require.NoError(t, err)
	ct, err := reader.Wrap(ctx, k.ID, b64(dek(1)), nil)
	require.NoError(t, err, "Reader may wrap")
	_, err = reader.Unwrap(ctx, k.ID, ct, nil)
	require.NoError(t, err)
	_, err = reader.CreateRootKey(ctx, "no", nil)
	requireKPErr(t, err, http.StatusForbidden, "INSUFFICIENT_ROLE_ERR")
	_, err = reader.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusForbidden, "INSUFFICIENT_ROLE_ERR")

	_, err = writer.CreateRootKey(ctx, "yes", nil)
	require.NoError(t, err)
	require.NoError(t, writer.Rotate(ctx, k.ID, ""))
	_, err = writer.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusForbidden, "INSUFFICIENT_ROLE_ERR")

	_, err = nobody.GetKey(ctx, k.ID)
	requireKPErr(t, err, http.StatusForbidden, "INSUFFICIENT_ROLE_ERR")
	_, err = nobody.GetKeys(ctx, 0, 0)
	requireKPErr(t, err, http.StatusForbidden, "INSUFFICIENT_ROLE_ERR")
}

func TestUserRoles_GrantedByAccessPolicy(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	require.NoError(t, env.Server.AddUser(env.Dev.AccountID, "late-key", "IBMid-late", nil))
	late := env.KPClient(t, "late-key", env.Dev.KPInstanceID)
	_, err := late.GetKeys(ctx, 0, 0)
	requireKPErr(t, err, http.StatusForbidden, "INSUFFICIENT_ROLE_ERR")
	body := `{"type":"access","subjects":[{"attributes":[{"name":"iam_id","value":"IBMid-late"}]}],
	 "roles":[{"role_id":"crn:v1:bluemix:public:iam::::serviceRole:Manager"}],
	 "resources":[{"attributes":[{"name":"accountId","value":"` + env.Dev.AccountID + `"},{"name":"serviceName","value":"kms"}]}]}`
	resp := env.Do(t, http.MethodPost, "/v1/policies", env.Token(t, env.Dev.OperatorAPIKey), body, nil)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	_, err = late.CreateRootKey(ctx, "granted", nil)
	require.NoError(t, err)
}

func TestBluemixInstance_Checked(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	s := env.Server
	require.NoError(t, s.AddAccount("other-account"))
	require.NoError(t, s.AddKPInstance("other-account", "other-instance"))
	require.NoError(t, s.AddUser("other-account", "other-key", "IBMid-other", map[string]string{"other-instance": "Manager"}))
	tests := []struct {
		name     string
		apiKey   string
		instance string
		status   int
		code     string
	}{
		{"unknown instance", env.Dev.OperatorAPIKey, "no-such-instance", 401, ""},
		{"other account's instance", env.Dev.OperatorAPIKey, "other-instance", 401, ""},
		{"foreign user on dev instance", "other-key", env.Dev.KPInstanceID, 401, ""},
		{"missing header", env.Dev.OperatorAPIKey, "", 400, "INVALID_FIELD_ERR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.KPClient(t, tc.apiKey, tc.instance).GetKeys(ctx, 0, 0)
			e := requireKPErr(t, err, tc.status, tc.code)
			if tc.status == 401 {
				require.Equal(t, "Unauthorized: The user does not have access to the specified resource", e.Message)
			}
		})
	}
}

func TestBearerToken_Rejected(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	good := env.Token(t, env.Dev.OperatorAPIKey)
	parts := strings.Split(good, ".")
	forged := parts[0] + "." + parts[1] + ".AAAA"
	for name, auth := range map[string]string{"none": "", "garbage": "Bearer nonsense", "forged": "Bearer " + forged, "no scheme": good} {
		t.Run(name, func(t *testing.T) {
			resp := env.Do(t, http.MethodGet, "/api/v2/keys", "", nil, map[string]string{"Authorization": auth})
			require.Equal(t, http.StatusUnauthorized, resp.Status)
			requireReason(t, resp, "")
		})
	}
}
