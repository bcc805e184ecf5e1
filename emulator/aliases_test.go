package emulator_test

import (
	"net/http"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestAliases_CreateUseDelete(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "aliased")
	other := rootKey(t, c, "other")
	a, err := c.CreateKeyAlias(ctx, "my-alias", k.ID)
	require.NoError(t, err)
	require.Equal(t, k.ID, a.KeyID)
	require.Equal(t, "my-alias", a.Alias)
	ct, err := c.Wrap(ctx, "my-alias", b64(dek(1)), nil)
	require.NoError(t, err)
	_, err = c.Unwrap(ctx, k.ID, ct, nil)
	require.NoError(t, err)
	_, err = c.CreateKeyAlias(ctx, "my-alias", other.ID)
	requireKPErr(t, err, http.StatusConflict, "KEY_ALIAS_NOT_UNIQUE_ERR")
	_, err = c.CreateKeyAlias(ctx, "0b5d2f9e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", k.ID)
	requireKPErr(t, err, http.StatusBadRequest, "INVALID_FIELD_ERR")
	require.NoError(t, c.DeleteKeyAlias(ctx, "my-alias", k.ID))
	_, err = c.GetKey(ctx, "my-alias")
	requireKPErr(t, err, http.StatusNotFound, "KEY_NOT_FOUND_ERR")
	requireKPErr(t, c.DeleteKeyAlias(ctx, "my-alias", k.ID), http.StatusNotFound, "KEY_ALIAS_NOT_FOUND_ERR")
}

func TestKeyRings_Lifecycle(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	require.NoError(t, c.CreateKeyRing(ctx, "team-ring"))
	requireKPErr(t, c.CreateKeyRing(ctx, "team-ring"), http.StatusConflict, "KEY_RING_CONFLICT_ERR")
	rc := env.OperatorClient(t)
	rc.Config.KeyRing = "team-ring"
	k, err := rc.CreateRootKey(ctx, "ringed", nil)
	require.NoError(t, err)
	requireKPErr(t, c.DeleteKeyRing(ctx, "team-ring"), http.StatusConflict, "KEY_RING_NOT_EMPTY_ERR")
	_, err = c.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	requireKPErr(t, c.DeleteKeyRing(ctx, "team-ring"), http.StatusConflict, "KEY_RING_NOT_EMPTY_ERR")
	require.NoError(t, c.DeleteKeyRing(ctx, "team-ring", kp.WithForce(true)))
	moved, err := c.GetKey(ctx, k.ID)
	require.NoError(t, err)
	require.Equal(t, "default", moved.KeyRingID)
	requireKPErr(t, c.DeleteKeyRing(ctx, "default"), http.StatusNotFound, "KEY_RING_NOT_FOUND_ERR")
}

func TestLegacyActionQuery_Works(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	k := rootKey(t, env.OperatorClient(t), "legacy")
	resp := env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"?action=wrap", env.Token(t, env.Dev.OperatorAPIKey), "{}", nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Contains(t, string(resp.Body), `"plaintext"`)
}

func TestDoubleSlashBaseURL_Tolerated(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c, err := kp.New(kp.ClientConfig{BaseURL: env.URL + "/", APIKey: env.Dev.OperatorAPIKey, TokenURL: env.URL + "/oidc/token",
		InstanceID: env.Dev.KPInstanceID}, kp.DefaultTransport())
	require.NoError(t, err)
	_, err = c.CreateRootKey(ctx, "slashed", nil)
	require.NoError(t, err)
}
