package activities

import (
	"context"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

func TestRegisterInstance_IdempotentAndVisible(t *testing.T) {
	h := newHarness(t)
	h.emu.AuthorizeService(t)
	key := h.rootKey("orders-root")
	crn := instanceCRN(h.acts.cfg, "orders-db")
	reg := contract.RegisterInstanceInput{RootKeyID: key.ID, InstanceCRN: crn}

	require.NoError(t, h.run(contract.ActivityRegisterInstance, reg, nil))
	require.NoError(t, h.run(contract.ActivityRegisterInstance, reg, nil), "a retry finds the registration")

	regs := h.registrations(key.ID)
	require.Len(t, regs, 1)
	require.Equal(t, crn, regs[0].ResourceCrn)
	require.Equal(t, "byokflow instance orders-db", regs[0].Description)
	require.False(t, regs[0].PreventKeyDeletion, "crypto-shredding must stay possible")

	dereg := contract.DeregisterInstanceInput(reg)
	require.NoError(t, h.run(contract.ActivityDeregisterInstance, dereg, nil))
	require.NoError(t, h.run(contract.ActivityDeregisterInstance, dereg, nil), "a retry finds it gone")
	require.Empty(t, h.registrations(key.ID))
	stats := h.emu.Server.Stats()
	require.EqualValues(t, 2, stats[emulator.OpCreateRegistration])
	require.EqualValues(t, 2, stats[emulator.OpDeleteRegistration])
}

func TestRegisterInstance_Rejects(t *testing.T) {
	tests := []struct {
		name      string
		authorize bool
		key       func(h *harness) string
		wantType  string
		fragments []string
	}{
		{"no authorization policy", false, func(h *harness) string { return h.rootKey("orders-root").ID },
			contract.ErrTypeServiceNotAuthorized, []string{"role Reader", "--create-authorization", "ibmcloud iam authorization-policy-create"}},
		{"unknown key", true, func(*harness) string { return "0f0e0d0c-0b0a-4908-8706-050403020100" },
			contract.ErrTypeKeyNotFound, []string{"not found in Key Protect instance"}},
		{"standard key", true, func(h *harness) string { return h.standardKey("plain") },
			contract.ErrTypeNotRootKey, []string{"the key is a standard key"}},
		{"disabled key", true, func(h *harness) string { return h.disabledKey("off") },
			contract.ErrTypeKeyNotActive, []string{"state does not allow this"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.authorize {
				h.emu.AuthorizeService(t)
			}
			keyID := tt.key(h)
			crn := instanceCRN(h.acts.cfg, "orders-db")

			err := h.run(contract.ActivityRegisterInstance, contract.RegisterInstanceInput{RootKeyID: keyID, InstanceCRN: crn}, nil)

			requireTyped(t, err, tt.wantType, append(tt.fragments, "register instance "+crn+" with root key "+keyID)...)
		})
	}
}

func TestDeregisterInstance_WithoutPolicyFailsServiceNotAuthorized(t *testing.T) {
	h := newHarness(t)
	key := h.rootKey("orders-root")

	err := h.run(contract.ActivityDeregisterInstance, contract.DeregisterInstanceInput{RootKeyID: key.ID,
		InstanceCRN: instanceCRN(h.acts.cfg, "orders-db")}, nil)

	requireTyped(t, err, contract.ErrTypeServiceNotAuthorized, "deregister instance", "role Reader")
}

func (h *harness) registrations(keyID string) []kp.Registration {
	h.t.Helper()
	regs, err := h.operator.ListRegistrations(context.Background(), keyID, "")
	require.NoError(h.t, err)
	return regs.Registrations
}
