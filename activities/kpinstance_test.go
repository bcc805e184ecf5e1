package activities

import (
	"context"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// otherKP is a second Key Protect instance of the development account.
const otherKP = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"

// otherKPKey adds otherKP (operator Manager, service authorized) and
// creates a root key there.
func (h *harness) otherKPKey(name string) *kp.Key {
	h.t.Helper()
	h.emu.AddKPInstance(h.t, otherKP)
	h.emu.AuthorizeServiceFor(h.t, otherKP)
	k, err := h.emu.KPClient(h.t, h.emu.Dev.OperatorAPIKey, otherKP).CreateRootKey(context.Background(), name, nil)
	require.NoError(h.t, err)
	return k
}

func TestKeyOfAnotherKPInstance_ValidatesRotatesAndRegisters(t *testing.T) {
	h := newHarness(t)
	key := h.otherKPKey("elsewhere-root")

	var valid contract.ValidateRootKeyResult
	require.NoError(t, h.run(contract.ActivityValidateRootKey,
		contract.ValidateRootKeyInput{RootKeyID: key.ID, KPInstanceID: otherKP}, &valid))
	require.Equal(t, key.KeyVersion.ID, valid.KeyVersionID)

	var rotated contract.RotateKeyResult
	require.NoError(t, h.run(contract.ActivityRotateKey, contract.RotateKeyInput{RootKeyID: key.ID,
		FromVersionID: valid.KeyVersionID, KPInstanceID: otherKP}, &rotated))
	require.True(t, rotated.Rotated)
	var read contract.ReadKeyVersionResult
	require.NoError(t, h.run(contract.ActivityReadKeyVersion,
		contract.ReadKeyVersionInput{RootKeyID: key.ID, KPInstanceID: otherKP}, &read))
	require.Equal(t, rotated.KeyVersionID, read.KeyVersionID)

	crn := instanceCRN(h.acts.cfg, "elsewhere-db")
	require.NoError(t, h.run(contract.ActivityRegisterInstance,
		contract.RegisterInstanceInput{RootKeyID: key.ID, InstanceCRN: crn, KPInstanceID: otherKP}, nil))
	regs, err := h.emu.KPClient(t, h.emu.Dev.OperatorAPIKey, otherKP).ListRegistrations(context.Background(), key.ID, "")
	require.NoError(t, err)
	require.Len(t, regs.Registrations, 1)
	require.Equal(t, crn, regs.Registrations[0].ResourceCrn)
}

func TestKeyOfAnotherKPInstance_IsNotFoundInTheDefaultInstance(t *testing.T) {
	h := newHarness(t)
	key := h.otherKPKey("elsewhere-root")

	err := h.run(contract.ActivityValidateRootKey, contract.ValidateRootKeyInput{RootKeyID: key.ID}, nil)

	requireTyped(t, err, contract.ErrTypeKeyNotFound, key.ID)
}

func TestKeysFor_BuildsOneClientPerKPInstance(t *testing.T) {
	h := newHarness(t)
	first, err := h.acts.keysFor(otherKP, "test")
	require.NoError(t, err)
	again, err := h.acts.keysFor(otherKP, "test")
	require.NoError(t, err)
	def, err := h.acts.keysFor("", "test")
	require.NoError(t, err)

	client := func(k KeyAdmin) KeyAdmin { return k.(auditedKeys).KeyAdmin }
	require.Same(t, client(first), client(again), "the client (and its token) is cached")
	require.NotSame(t, client(first), client(def))
}
