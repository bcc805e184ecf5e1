package activities

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestCheckServiceAuthorization_MissingPolicyNamesIt(t *testing.T) {
	h := newHarness(t)
	dev := h.emu.Dev

	err := h.run(contract.ActivityCheckServiceAuthorization,
		contract.CheckServiceAuthorizationInput{KPInstanceID: dev.KPInstanceID}, nil)

	requireTyped(t, err, contract.ErrTypeServiceNotAuthorized,
		"check service authorization for Key Protect instance "+dev.KPInstanceID,
		"source service "+dev.ServiceName, "target service kms instance "+dev.KPInstanceID,
		"role Reader", "--create-authorization", dev.AccountID)
	require.Zero(t, h.emu.Server.Stats()[emulator.OpIAMCreatePolicy], "nothing is created without the flag")
}

func TestCheckServiceAuthorization_CreatesPolicyOnce(t *testing.T) {
	h := newHarness(t)
	in := contract.CheckServiceAuthorizationInput{KPInstanceID: h.emu.Dev.KPInstanceID, Create: true}

	var first, second, check contract.CheckServiceAuthorizationResult
	require.NoError(t, h.run(contract.ActivityCheckServiceAuthorization, in, &first))
	require.NoError(t, h.run(contract.ActivityCheckServiceAuthorization, in, &second))
	in.Create = false
	require.NoError(t, h.run(contract.ActivityCheckServiceAuthorization, in, &check))

	require.True(t, first.Created)
	require.NotEmpty(t, first.PolicyID)
	require.Equal(t, contract.CheckServiceAuthorizationResult{PolicyID: first.PolicyID}, second, "a retry finds it")
	require.Equal(t, second, check)
	require.EqualValues(t, 1, h.emu.Server.Stats()[emulator.OpIAMCreatePolicy])
	// The policy really authorizes the service: it can now wrap with the key.
	key := h.rootKey("authorized")
	_, _, err := h.emu.ServiceClient(t).WrapCreateDEK(context.Background(), key.ID, nil)
	require.NoError(t, err)
}

func TestCheckServiceAuthorization_FindsPolicyMadeByHand(t *testing.T) {
	h := newHarness(t)
	id := h.emu.AuthorizeService(t)

	var res contract.CheckServiceAuthorizationResult
	err := h.run(contract.ActivityCheckServiceAuthorization,
		contract.CheckServiceAuthorizationInput{KPInstanceID: h.emu.Dev.KPInstanceID}, &res)

	require.NoError(t, err)
	require.Equal(t, contract.CheckServiceAuthorizationResult{PolicyID: id}, res)
}

// A worker without clients for other Key Protect instances (no KeysFor or
// RegistrarFor) serves only its own.
func TestCheckServiceAuthorization_OtherKPInstanceIsInvalidInput(t *testing.T) {
	h := newHarness(t)
	h.acts.kp.multi = false
	other := "11111111-2222-4333-8444-555555555555"

	err := h.run(contract.ActivityCheckServiceAuthorization,
		contract.CheckServiceAuthorizationInput{KPInstanceID: other, Create: true}, nil)

	requireTyped(t, err, contract.ErrTypeInvalidInput, other, "BYOK_KP_INSTANCE_ID")
	require.Zero(t, h.emu.Server.Stats()[emulator.OpIAMCreatePolicy])
}

func TestCheckServiceAuthorization_UnknownOperatorKeyIsAccessDenied(t *testing.T) {
	h := newHarness(t)
	env := h.emuEnv()
	env.OperatorAPIKey = "not-a-known-api-key"
	clients, err := dialIBM(env)
	require.NoError(t, err)
	h.acts.policies = clients.Policies

	err = h.run(contract.ActivityCheckServiceAuthorization,
		contract.CheckServiceAuthorizationInput{KPInstanceID: h.emu.Dev.KPInstanceID}, nil)

	requireTyped(t, err, contract.ErrTypeAccessDenied, "get IAM token for the operator identity", "IBMCLOUD_API_KEY")
	require.NotContains(t, err.Error(), "not-a-known-api-key", "an API key never appears in an error")
}

func TestCheckServiceAuthorization_FindsPolicyOnLaterPage(t *testing.T) {
	h := newHarness(t, emulatortest.WithMemory())
	svc := h.emu.PolicyClient(t)
	d := h.emu.Dev
	for i := range 120 {
		other := authzTarget{AccountID: d.AccountID, ServiceName: fmt.Sprintf("other-service-%03d", i), KPInstanceID: d.KPInstanceID}
		_, _, err := svc.CreatePolicy(authorizationPolicy(other))
		require.NoError(t, err)
	}
	id := h.emu.AuthorizeService(t)
	h.emu.Server.ResetStats()

	var res contract.CheckServiceAuthorizationResult
	err := h.run(contract.ActivityCheckServiceAuthorization, contract.CheckServiceAuthorizationInput{}, &res)

	require.NoError(t, err)
	require.Equal(t, id, res.PolicyID)
	require.EqualValues(t, 2, h.emu.Server.Stats()[emulator.OpIAMListPolicies], "the policy is on the second page")
}
