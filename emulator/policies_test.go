package emulator_test

import (
	"net/http"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestKeyPolicies_SetAndGet(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "policied")

	none, err := c.GetRotationPolicy(ctx, k.ID)
	require.NoError(t, err)
	require.Nil(t, none, "no policy: empty collection")
	raw := env.Do(t, http.MethodGet, "/api/v2/keys/"+k.ID+"/policies", env.Token(t, env.Dev.OperatorAPIKey), nil, nil)
	require.JSONEq(t, `{"metadata":{"collectionType":"application/vnd.ibm.kms.policy+json","collectionTotal":0}}`, string(raw.Body))

	rot, err := c.SetRotationPolicy(ctx, k.ID, 3)
	require.NoError(t, err)
	require.Equal(t, 3, rot.Rotation.Interval)
	require.True(t, *rot.Rotation.Enabled)
	require.Contains(t, rot.CRN, ":policy:")
	dis, err := c.DisableRotationPolicy(ctx, k.ID)
	require.NoError(t, err)
	require.False(t, *dis.Rotation.Enabled)
	require.Equal(t, 3, dis.Rotation.Interval, "disable keeps the interval")

	da, err := c.SetDualAuthDeletePolicy(ctx, k.ID, true)
	require.NoError(t, err)
	require.True(t, *da.DualAuth.Enabled)
	_, err = c.SetDualAuthDeletePolicy(ctx, k.ID, false)
	requireKPErr(t, err, http.StatusBadRequest, "INVALID_FIELD_ERR")

	all, err := c.GetPolicies(ctx, k.ID)
	require.NoError(t, err)
	require.Len(t, all, 2)
	got, err := c.GetKey(ctx, k.ID)
	require.NoError(t, err)
	require.False(t, *got.Rotation.Enabled)
	require.True(t, *got.DualAuthDelete.Enabled)
}

func TestKeyPolicies_Errors(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "strict")
	std, err := c.CreateStandardKey(ctx, "standard", nil)
	require.NoError(t, err)
	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"interval zero", func() error { _, err := c.SetRotationPolicy(ctx, k.ID, 0); return err }, 400, "INVALID_FIELD_ERR"},
		{"interval 13", func() error { _, err := c.SetRotationPolicy(ctx, k.ID, 13); return err }, 400, "INVALID_FIELD_ERR"},
		{"rotation on standard key", func() error { _, err := c.SetRotationPolicy(ctx, std.ID, 2); return err }, 400, "KEY_ROOT_REQ_ERR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { requireKPErr(t, tc.call(), tc.status, tc.code) })
	}
}

func TestKeyPolicies_RawErrors(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	k := rootKey(t, env.OperatorClient(t), "strict")
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	path := "/api/v2/keys/" + k.ID + "/policies"
	mismatch := map[string]any{"metadata": map[string]any{"collectionType": "application/vnd.ibm.kms.policy+json", "collectionTotal": 1},
		"resources": []any{map[string]any{"dualAuthDelete": map[string]any{"enabled": true}}}}
	wrongTotal := map[string]any{"metadata": map[string]any{"collectionTotal": 2},
		"resources": []any{map[string]any{"dualAuthDelete": map[string]any{"enabled": true}}}}
	tests := []struct {
		name   string
		resp   emulatortest.Response
		status int
		code   string
	}{
		{"query mismatch", env.Do(t, http.MethodPut, path+"?policy=rotation", tok, mismatch, nil), 400, "BODY_QUERY_PARAM_MISMATCH_ERR"},
		{"collection total", env.Do(t, http.MethodPut, path, tok, wrongTotal, nil), 400, "COLLECTION_TOTAL_MISMATCH_ERR"},
		{"unknown policy", env.Do(t, http.MethodGet, path+"?policy=magic", tok, nil, nil), 400, "INVALID_QUERY_PARAM_ERR"},
		{"no body", env.Do(t, http.MethodPut, path, tok, nil, nil), 400, "NO_BODY_ERR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.status, tc.resp.Status, "%s", tc.resp.Body)
			requireReason(t, tc.resp, tc.code)
		})
	}
}

func TestKeyPolicies_SetPoliciesBoth(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "both")
	ps, err := c.SetPolicies(ctx, k.ID, true, 6, true, true)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	require.Equal(t, 6, ps[0].Rotation.Interval)
	require.True(t, *ps[1].DualAuth.Enabled)
}

func TestCreateKeyWithPolicyOverrides_Policies(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k, err := c.CreateRootKeyWithPolicyOverrides(ctx, "overridden", nil, []string{"ov-alias"},
		kp.Policy{Rotation: &kp.Rotation{Enabled: ptrTo(true), Interval: 2}, DualAuth: &kp.DualAuth{Enabled: ptrTo(true)}})
	require.NoError(t, err)
	require.Equal(t, 2, k.Rotation.Interval)
	require.True(t, *k.DualAuthDelete.Enabled)
	require.Equal(t, []string{"ov-alias"}, k.Aliases)
	_, err = c.CreateRootKeyWithPolicyOverrides(ctx, "bad", nil, nil, kp.Policy{Rotation: &kp.Rotation{Interval: 0}})
	requireKPErr(t, err, http.StatusBadRequest, "INVALID_FIELD_ERR")
	_, err = c.CreateStandardKeyWithPolicyOverrides(ctx, "std", nil, nil, kp.Policy{Rotation: &kp.Rotation{Interval: 1}})
	requireKPErr(t, err, http.StatusBadRequest, "KEY_ROOT_REQ_ERR")
}

func TestInstancePolicies_InheritedByNewKeys(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	before := rootKey(t, c, "before")
	empty, err := c.GetInstancePolicies(ctx)
	require.NoError(t, err)
	require.Empty(t, empty)
	require.NoError(t, c.SetDualAuthInstancePolicy(ctx, true))
	require.NoError(t, c.SetRotationInstancePolicy(ctx, true, ptrTo(4)))

	da, err := c.GetDualAuthInstancePolicy(ctx)
	require.NoError(t, err)
	require.True(t, *da.PolicyData.Enabled)
	rot, err := c.GetRotationInstancePolicy(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, *rot.PolicyData.Attributes.IntervalMonth)
	require.NotNil(t, rot.UpdatedAt)

	after := rootKey(t, c, "after")
	require.True(t, *after.DualAuthDelete.Enabled)
	require.Equal(t, 4, after.Rotation.Interval)
	old, err := c.GetKey(ctx, before.ID)
	require.NoError(t, err)
	require.False(t, *old.DualAuthDelete.Enabled)
	require.Nil(t, old.Rotation)

	require.NoError(t, c.SetDualAuthInstancePolicy(ctx, false))
	later := rootKey(t, c, "later")
	require.False(t, *later.DualAuthDelete.Enabled)
}

func TestInstancePolicies_Errors(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	two := map[string]any{"metadata": map[string]any{"collectionTotal": 2}, "resources": []any{
		map[string]any{"policy_type": "dualAuthDelete", "policy_data": map[string]any{"enabled": true}},
		map[string]any{"policy_type": "metrics", "policy_data": map[string]any{"enabled": true}}}}
	wrong := map[string]any{"metadata": map[string]any{"collectionTotal": 1}, "resources": []any{
		map[string]any{"policy_type": "badName", "policy_data": map[string]any{"enabled": false}}}}
	tests := []struct {
		name   string
		resp   emulatortest.Response
		status int
		code   string
	}{
		{"two with query", env.Do(t, http.MethodPut, "/api/v2/instance/policies?policy=dualAuthDelete", tok, two, nil), 400, "NUM_COLLECTION_RESOURCE_ERR"},
		{"query mismatch", env.Do(t, http.MethodPut, "/api/v2/instance/policies?policy=dualAuthDelete", tok, wrong, nil), 400, "BODY_QUERY_PARAM_MISMATCH_ERR"},
		{"unknown type", env.Do(t, http.MethodPut, "/api/v2/instance/policies", tok, wrong, nil), 400, "INVALID_FIELD_ERR"},
		{"no body", env.Do(t, http.MethodPut, "/api/v2/instance/policies", tok, nil, nil), 400, "NO_BODY_ERR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.status, tc.resp.Status, "%s", tc.resp.Body)
			requireReason(t, tc.resp, tc.code)
		})
	}
	err := c.SetRotationInstancePolicy(ctx, true, ptrTo(0))
	requireKPErr(t, err, http.StatusBadRequest, "INVALID_FIELD_ERR")
	resp := env.Do(t, http.MethodPut, "/api/v2/instance/policies", tok, two, nil)
	require.Equal(t, http.StatusNoContent, resp.Status, "several policies without a query")
	all, err := c.GetInstancePolicies(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
}

func TestInstancePolicies_KeyCreateImportAccess(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	body := map[string]any{"metadata": map[string]any{"collectionTotal": 1}, "resources": []any{map[string]any{
		"policy_type": "keyCreateImportAccess",
		"policy_data": map[string]any{"enabled": true, "attributes": map[string]any{"create_root_key": false}}}}}
	resp := env.Do(t, http.MethodPut, "/api/v2/instance/policies?policy=keyCreateImportAccess", env.Token(t, env.Dev.OperatorAPIKey), body, nil)
	require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp.Body)
	_, err := c.CreateRootKey(ctx, "forbidden", nil)
	requireKPErr(t, err, http.StatusConflict, "KEY_CREATE_IMPORT_ACCESS_ERR")
	_, err = c.CreateImportedRootKey(ctx, "allowed", nil, string(b64(dek(1))), "", "")
	require.NoError(t, err)
}
