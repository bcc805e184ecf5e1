package activities

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

// Each client is built once per worker and caches its IAM token, so many
// activity calls cost one token per client: the operator's Key Protect
// client, the operator's IAM policy client and the service's registrar.
func TestActivities_CacheTokensPerClient(t *testing.T) {
	h := newHarness(t)
	h.emu.AuthorizeService(t)
	key := h.rootKey("orders-root")
	h.build(Clients{}) // fresh clients, no token yet
	h.emu.Server.ResetStats()
	reg := contract.RegisterInstanceInput{RootKeyID: key.ID, InstanceCRN: instanceCRN(h.acts.cfg, "orders-db")}

	for range 5 {
		require.NoError(t, h.run(contract.ActivityCheckServiceAuthorization,
			contract.CheckServiceAuthorizationInput{KPInstanceID: h.emu.Dev.KPInstanceID}, nil))
		require.NoError(t, h.run(contract.ActivityValidateRootKey, contract.ValidateRootKeyInput{RootKeyID: key.ID}, nil))
		require.NoError(t, h.run(contract.ActivityReadKeyVersion, contract.ReadKeyVersionInput{RootKeyID: key.ID}, nil))
		require.NoError(t, h.run(contract.ActivityRegisterInstance, reg, nil))
		require.NoError(t, h.run(contract.ActivityDeregisterInstance, contract.DeregisterInstanceInput(reg), nil))
	}

	stats := h.emu.Server.Stats()
	require.EqualValues(t, 5, stats[emulator.OpCreateRegistration], "the calls were made")
	require.EqualValues(t, 10, stats[emulator.OpGetKeyMetadata])
	require.EqualValues(t, 3, stats[emulator.OpToken], "one token per client, not per call")
}
