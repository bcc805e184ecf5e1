package emulator_test

import (
	"net/http"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestDeleteKey_PreferDecidesAnswer(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	a, b := rootKey(t, c, "rep"), rootKey(t, c, "min")
	got, err := c.DeleteKey(ctx, a.ID, kp.ReturnRepresentation)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Equal(t, int(kp.Destroyed), got.State)
	require.True(t, *got.Deleted)
	require.Equal(t, env.Dev.OperatorIAMID, *got.DeletedBy)
	require.NotNil(t, got.DeletionDate)
	require.NotNil(t, got.PurgeAllowedFrom)
	got, err = c.DeleteKey(ctx, b.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	require.Nil(t, got, "204 has no body")
	_, err = c.DeleteKey(ctx, b.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusGone, "KEY_DELETED_ERR")
}

func TestDeleteKey_OldCiphertextsComeBackAfterRestore(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "restorable")
	ct, err := c.Wrap(ctx, k.ID, b64(dek(1)), nil)
	require.NoError(t, err)
	_, err = c.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	_, err = c.Unwrap(ctx, k.ID, ct, nil)
	requireKPErr(t, err, http.StatusGone, "KEY_DELETED_ERR")
	restored, err := c.RestoreKey(ctx, k.ID)
	require.NoError(t, err)
	require.Equal(t, int(kp.Active), restored.State)
	pt, err := c.Unwrap(ctx, k.ID, ct, nil)
	require.NoError(t, err)
	require.Equal(t, b64(dek(1)), pt)
}

func TestPurgeKey_ThenNotFoundEverywhere(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k, err := c.CreateKeyWithAliases(ctx, "purged", nil, false, []string{"purged-alias"})
	require.NoError(t, err)
	ct, err := c.Wrap(ctx, k.ID, b64(dek(1)), nil)
	require.NoError(t, err)
	_, err = c.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	got, err := c.PurgeKey(ctx, k.ID, kp.ReturnRepresentation)
	require.NoError(t, err)
	require.True(t, *got.PurgeAllowed)
	calls := map[string]func() error{
		"get":     func() error { _, err := c.GetKey(ctx, k.ID); return err },
		"alias":   func() error { _, err := c.GetKey(ctx, "purged-alias"); return err },
		"unwrap":  func() error { _, err := c.Unwrap(ctx, k.ID, ct, nil); return err },
		"restore": func() error { _, err := c.RestoreKey(ctx, k.ID); return err },
		"purge":   func() error { _, err := c.PurgeKey(ctx, k.ID, kp.ReturnMinimal); return err },
		"delete":  func() error { _, err := c.DeleteKey(ctx, k.ID, kp.ReturnMinimal); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { requireKPErr(t, call(), http.StatusNotFound, "KEY_NOT_FOUND_ERR") })
	}
	list, err := c.ListKeys(ctx, &kp.ListKeysOptions{State: []kp.KeyState{kp.Destroyed}})
	require.NoError(t, err)
	require.Empty(t, list.Keys)
}

func TestTimingGuards_DefaultsRefuseTooEarly(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithTiming(emulator.DefaultTiming()))
	c := env.OperatorClient(t)
	k := rootKey(t, c, "guarded")
	require.NoError(t, c.Rotate(ctx, k.ID, ""))
	requireKPErr(t, c.Rotate(ctx, k.ID, ""), http.StatusConflict, "KEY_ROTATION_NOT_PERMITTED")
	require.NoError(t, c.DisableKey(ctx, k.ID))
	requireKPErr(t, c.EnableKey(ctx, k.ID), http.StatusConflict, "REQ_TOO_EARLY_ERR")
	_, err := c.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	_, err = c.RestoreKey(ctx, k.ID)
	requireKPErr(t, err, http.StatusConflict, "REQ_TOO_EARLY_ERR")
	_, err = c.PurgeKey(ctx, k.ID, kp.ReturnMinimal)
	e := requireKPErr(t, err, http.StatusConflict, "REQ_TOO_EARLY_ERR")
	require.Contains(t, e.Reasons[0].Message, "4h0m0s")
}

func TestTimingGuards_PassWithTime(t *testing.T) {
	env, clk := startWithClock(t, emulatortest.WithMemory(), emulatortest.WithTiming(emulator.DefaultTiming()))
	c := env.OperatorClient(t)
	k := rootKey(t, c, "patient")
	require.NoError(t, c.Rotate(ctx, k.ID, ""))
	require.NoError(t, c.DisableKey(ctx, k.ID))
	clk.Advance(31 * time.Second)
	require.NoError(t, c.EnableKey(ctx, k.ID))
	_, err := c.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	clk.Advance(31 * time.Second)
	_, err = c.RestoreKey(ctx, k.ID)
	require.NoError(t, err)
	clk.Advance(time.Hour - 62*time.Second)
	c = env.OperatorClient(t)
	require.NoError(t, c.Rotate(ctx, k.ID, ""))
	_, err = c.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	require.NoError(t, err)
	clk.Advance(4 * time.Hour)
	c = env.OperatorClient(t)
	_, err = c.PurgeKey(ctx, k.ID, kp.ReturnMinimal)
	require.NoError(t, err)
}

func TestRestoreKey_WindowAndExpiry(t *testing.T) {
	env, clk := startWithClock(t, emulatortest.WithMemory(), emulatortest.WithTiming(emulator.DefaultTiming()))
	c := env.OperatorClient(t)
	late := rootKey(t, c, "late")
	exp := time.Now().Add(time.Hour)
	expiring, err := c.CreateRootKey(ctx, "expiring", &exp)
	require.NoError(t, err)
	for _, id := range []string{late.ID, expiring.ID} {
		_, err := c.DeleteKey(ctx, id, kp.ReturnMinimal)
		require.NoError(t, err)
	}
	clk.Advance(2 * time.Hour)
	c = env.OperatorClient(t)
	_, err = c.RestoreKey(ctx, expiring.ID)
	requireKPErr(t, err, http.StatusBadRequest, "KEY_EXPIRED_ERR")
	clk.Advance(30 * 24 * time.Hour)
	c = env.OperatorClient(t)
	_, err = c.RestoreKey(ctx, late.ID)
	requireKPErr(t, err, http.StatusBadRequest, "KEY_RESTORE_EXPIRED")
}

func TestExpiration_DeactivatesKey(t *testing.T) {
	env, clk := startWithClock(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	exp := time.Now().Add(time.Minute)
	k, err := c.CreateRootKey(ctx, "short-lived", &exp)
	require.NoError(t, err)
	ct, err := c.Wrap(ctx, k.ID, b64(dek(1)), nil)
	require.NoError(t, err)
	clk.Advance(2 * time.Minute)
	c = env.OperatorClient(t)
	got, err := c.GetKey(ctx, k.ID)
	require.NoError(t, err)
	require.Equal(t, int(kp.Deactivated), got.State)
	_, err = c.Wrap(ctx, k.ID, b64(dek(1)), nil)
	requireKPErr(t, err, http.StatusConflict, "KEY_ACTION_INVALID_STATE_ERR")
	_, err = c.Unwrap(ctx, k.ID, ct, nil)
	require.NoError(t, err, "a deactivated key still unwraps")
	requireKPErr(t, c.EnableKey(ctx, k.ID), http.StatusConflict, "KEY_ACTION_INVALID_STATE_ERR")
}

func TestDualAuth_DifferentUserMustDelete(t *testing.T) {
	env, clk := startWithClock(t, emulatortest.WithMemory(), emulatortest.WithTiming(emulator.DefaultTiming()))
	c := env.OperatorClient(t)
	other := secondManager(t, env)
	plain := rootKey(t, c, "plain")
	requireKPErr(t, c.InitiateDualAuthDelete(ctx, plain.ID), http.StatusConflict, "NOT_DUAL_AUTH_ERR")
	requireKPErr(t, c.CancelDualAuthDelete(ctx, plain.ID), http.StatusConflict, "NOT_DUAL_AUTH_ERR")

	k, err := c.CreateRootKeyWithPolicyOverrides(ctx, "dual", nil, nil, kp.Policy{DualAuth: &kp.DualAuth{Enabled: ptrTo(true)}})
	require.NoError(t, err)
	require.True(t, *k.DualAuthDelete.Enabled)
	_, err = c.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusConflict, "AUTHORIZATIONS_NOT_MET")
	require.NoError(t, c.InitiateDualAuthDelete(ctx, k.ID))
	_, err = c.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusConflict, "AUTHORIZATIONS_NOT_MET") // same user
	require.NoError(t, c.CancelDualAuthDelete(ctx, k.ID))
	_, err = other.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusConflict, "AUTHORIZATIONS_NOT_MET") // cancelled

	require.NoError(t, c.InitiateDualAuthDelete(ctx, k.ID))
	clk.Advance(7*24*time.Hour + time.Second)
	other = env.KPClient(t, "second-manager-key", env.Dev.KPInstanceID)
	_, err = other.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusConflict, "AUTHORIZATIONS_NOT_MET") // window closed

	c = env.OperatorClient(t)
	require.NoError(t, c.InitiateDualAuthDelete(ctx, k.ID))
	_, err = other.DeleteKey(ctx, k.ID, kp.ReturnMinimal)
	require.NoError(t, err)
}

func TestDualAuth_OperatorAndApprover(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithTiming(emulator.DefaultTiming()))
	operator, approver := env.OperatorClient(t), env.ApproverClient(t)
	alone := rootKey(t, operator, "operator alone")
	_, err := operator.SetDualAuthDeletePolicy(ctx, alone.ID, true)
	require.NoError(t, err)
	require.NoError(t, operator.InitiateDualAuthDelete(ctx, alone.ID))
	_, err = operator.DeleteKey(ctx, alone.ID, kp.ReturnMinimal)
	requireKPErr(t, err, http.StatusConflict, "AUTHORIZATIONS_NOT_MET")
	got, err := operator.GetKey(ctx, alone.ID)
	require.NoError(t, err)
	require.Equal(t, int(kp.Active), got.State, "a refused delete leaves the key alone")

	two := rootKey(t, operator, "two people")
	_, err = operator.SetDualAuthDeletePolicy(ctx, two.ID, true)
	require.NoError(t, err)
	require.NoError(t, approver.InitiateDualAuthDelete(ctx, two.ID))
	deleted, err := operator.DeleteKey(ctx, two.ID, kp.ReturnRepresentation)
	require.NoError(t, err)
	require.Equal(t, int(kp.Destroyed), deleted.State)
	require.Equal(t, env.Dev.OperatorIAMID, *deleted.DeletedBy)
}

func TestDualAuth_LegacyActionNames(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory(), emulatortest.WithTiming(emulator.DefaultTiming()))
	c := env.OperatorClient(t)
	k, err := c.CreateRootKeyWithPolicyOverrides(ctx, "dual", nil, nil, kp.Policy{DualAuth: &kp.DualAuth{Enabled: ptrTo(true)}})
	require.NoError(t, err)
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	resp := env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"/actions/setKeyDeletion", tok, nil, nil)
	require.Equal(t, http.StatusNoContent, resp.Status, "%s", resp.Body)
	got, err := c.GetKey(ctx, k.ID)
	require.NoError(t, err)
	require.Contains(t, string(mustJSON(t, got)), `"dualAuthDelete":{"enabled":true}`)
	raw := env.Do(t, http.MethodGet, "/api/v2/keys/"+k.ID+"/metadata", tok, nil, nil)
	require.Contains(t, string(raw.Body), `"keySetForDeletion":true`)
	require.Contains(t, string(raw.Body), `"authExpiration"`)
	resp = env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"/actions/unsetKeyDeletion", tok, "{}", nil)
	require.Equal(t, http.StatusNoContent, resp.Status)
	raw = env.Do(t, http.MethodGet, "/api/v2/keys/"+k.ID+"/metadata", tok, nil, nil)
	require.Contains(t, string(raw.Body), `"keySetForDeletion":false`)
}
