package emulator_test

import (
	"net/http"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

const (
	crnA = "crn:v1:bluemix:public:hyperp-dbaas-postgresql:us-south:a/b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5:inst-a::"
	crnB = "crn:v1:bluemix:public:hyperp-dbaas-postgresql:us-south:a/b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5:inst-b::"
)

func TestRegistrations_CreateListDelete(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.AuthorizeService(t)
	c := env.OperatorClient(t)
	k := rootKey(t, c, "registered")
	other := rootKey(t, c, "other")
	svc := env.Token(t, env.Dev.ServiceAPIKey)

	resp := env.Do(t, http.MethodPost, emulatortest.RegistrationPath(k.ID, crnA), svc,
		map[string]any{"description": "db a", "preventKeyDeletion": false, "registrationMetadata": "meta"}, nil)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	env.Register(t, other.ID, crnB, false)
	dup := env.Do(t, http.MethodPost, emulatortest.RegistrationPath(k.ID, crnA), svc, map[string]any{"preventKeyDeletion": false}, nil)
	require.Equal(t, http.StatusConflict, dup.Status)
	requireReason(t, dup, "REGISTRATION_EXISTS_ERR")

	regs, err := c.ListRegistrations(ctx, k.ID, "")
	require.NoError(t, err)
	require.Len(t, regs.Registrations, 1)
	r := regs.Registrations[0]
	require.Equal(t, crnA, r.ResourceCrn)
	require.Equal(t, k.ID, r.KeyID)
	require.Equal(t, "db a", r.Description)
	require.Equal(t, k.ID, r.KeyVersion.ID)
	require.NotNil(t, r.CreationDate)
	require.Equal(t, env.Dev.ServiceIAMID, r.CreatedBy)

	all, err := c.ListRegistrations(ctx, "", "")
	require.NoError(t, err)
	require.Len(t, all.Registrations, 2)
	wild, err := c.ListRegistrations(ctx, "", "crn:v1:bluemix:public:hyperp-dbaas-postgresql:*:inst-b::")
	require.NoError(t, err)
	require.Len(t, wild.Registrations, 1)
	require.Equal(t, other.ID, wild.Registrations[0].KeyID)
	exact, err := c.ListRegistrations(ctx, "", crnA)
	require.NoError(t, err)
	require.Len(t, exact.Registrations, 1)

	del := env.Do(t, http.MethodDelete, emulatortest.RegistrationPath(k.ID, crnA), svc, nil, nil)
	require.Equal(t, http.StatusNoContent, del.Status)
	gone := env.Do(t, http.MethodDelete, emulatortest.RegistrationPath(k.ID, crnA), svc, nil, nil)
	require.Equal(t, http.StatusNotFound, gone.Status)
	requireReason(t, gone, "REGISTRATION_NOT_FOUND_ERR")
	regs, err = c.ListRegistrations(ctx, k.ID, "")
	require.NoError(t, err)
	require.Empty(t, regs.Registrations)
}

func TestRegistrations_UserGetsServiceOnly(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	k := rootKey(t, env.OperatorClient(t), "user-tries")
	user := env.Token(t, env.Dev.OperatorAPIKey)
	body := map[string]any{"preventKeyDeletion": false}
	for _, m := range []string{http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
		t.Run(m, func(t *testing.T) {
			resp := env.Do(t, m, emulatortest.RegistrationPath(k.ID, crnA), user, body, nil)
			require.Equal(t, http.StatusForbidden, resp.Status)
			requireReason(t, resp, "SERVICE_ONLY_ERR")
		})
	}
}

func TestRegistrations_UpdateAndReplace(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.AuthorizeService(t)
	c := env.OperatorClient(t)
	k := rootKey(t, c, "updated")
	env.Register(t, k.ID, crnA, false)
	require.NoError(t, c.Rotate(ctx, k.ID, ""))
	latest, err := c.GetKeyMetadata(ctx, k.ID)
	require.NoError(t, err)
	svc := env.Token(t, env.Dev.ServiceAPIKey)
	path := emulatortest.RegistrationPath(k.ID, crnA)

	resp := env.Do(t, http.MethodPatch, path, svc, map[string]any{"keyVersionId": latest.KeyVersion.ID, "description": "moved"}, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	back := env.Do(t, http.MethodPatch, path, svc, map[string]any{"keyVersionId": k.ID}, nil)
	require.Equal(t, http.StatusUnprocessableEntity, back.Status)
	requireReason(t, back, "KEY_VERSION_INVALID")
	noPrevent := env.Do(t, http.MethodPut, path, svc, map[string]any{"description": "replaced"}, nil)
	require.Equal(t, http.StatusBadRequest, noPrevent.Status)
	requireReason(t, noPrevent, "INVALID_FIELD_ERR")
	resp = env.Do(t, http.MethodPut, path, svc, map[string]any{"preventKeyDeletion": true}, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	regs, err := c.ListRegistrations(ctx, k.ID, "")
	require.NoError(t, err)
	r := regs.Registrations[0]
	require.Equal(t, latest.KeyVersion.ID, r.KeyVersion.ID)
	require.True(t, r.PreventKeyDeletion)
	require.Empty(t, r.Description, "PUT replaces the description")
}

func TestRegistrations_KeyRules(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.AuthorizeService(t)
	c := env.OperatorClient(t)
	std, err := c.CreateStandardKey(ctx, "standard", nil)
	require.NoError(t, err)
	suspended := rootKey(t, c, "suspended")
	require.NoError(t, c.DisableKey(ctx, suspended.ID))
	svc := env.Token(t, env.Dev.ServiceAPIKey)
	body := map[string]any{"preventKeyDeletion": false}
	resp := env.Do(t, http.MethodPost, emulatortest.RegistrationPath(std.ID, crnA), svc, body, nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	requireReason(t, resp, "KEY_ROOT_REQ_REG_ERR")
	resp = env.Do(t, http.MethodPost, emulatortest.RegistrationPath(suspended.ID, crnA), svc, body, nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	requireReason(t, resp, "KEY_INVALID_STATE_ERR")
	resp = env.Do(t, http.MethodPost, emulatortest.RegistrationPath(suspended.ID, "not-a-crn"), svc, body, nil)
	require.Equal(t, http.StatusBadRequest, resp.Status)
	resp = env.Do(t, http.MethodPost, "/api/v2/keys/"+suspended.ID+"/registrations/x", svc, nil, nil)
	require.Equal(t, http.StatusBadRequest, resp.Status)
}

func TestRegistrations_BlockDeletion(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.AuthorizeService(t)
	c := env.OperatorClient(t)
	protected := rootKey(t, c, "protected")
	retained := rootKey(t, c, "retained")
	env.Register(t, protected.ID, crnA, false)
	env.Register(t, retained.ID, crnB, true)

	_, err := c.DeleteKey(ctx, protected.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusConflict, "PROTECTED_RESOURCE_ERR")
	_, err = c.DeleteKey(ctx, retained.ID, kp.ReturnMinimal, kp.ForceOpt{Force: true})
	requireKPErr(t, err, http.StatusConflict, "PREV_KEY_DEL_ERR")
	_, err = c.DeleteKey(ctx, protected.ID, kp.ReturnMinimal, kp.ForceOpt{Force: true})
	require.NoError(t, err)
	regs, err := c.ListRegistrations(ctx, protected.ID, "")
	require.NoError(t, err)
	require.Len(t, regs.Registrations, 1, "registrations stay readable after a forced delete")
}
