package activities

import (
	"context"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func TestValidateRootKey_ActiveRootKey(t *testing.T) {
	h := newHarness(t)
	key := h.rootKey("orders-root")

	var res contract.ValidateRootKeyResult
	err := h.run(contract.ActivityValidateRootKey, contract.ValidateRootKeyInput{
		RootKeyID: key.ID, KPInstanceID: h.emu.Dev.KPInstanceID}, &res)

	require.NoError(t, err)
	require.Equal(t, contract.ValidateRootKeyResult{KeyVersionID: key.KeyVersion.ID, KeyName: "orders-root",
		KeyCRN: key.CRN}, res)
	require.NotEmpty(t, res.KeyVersionID)
}

func TestValidateRootKey_Rejects(t *testing.T) {
	tests := []struct {
		name      string
		key       func(h *harness) string
		wantType  string
		fragments []string
	}{
		{"unknown key", func(*harness) string { return "0f0e0d0c-0b0a-4908-8706-050403020100" },
			contract.ErrTypeKeyNotFound, []string{"validate root key 0f0e0d0c-0b0a-4908-8706-050403020100",
				"KEY_NOT_FOUND_ERR", "choose a root key of instance"}},
		{"standard key", func(h *harness) string { return h.standardKey("plain") },
			contract.ErrTypeNotRootKey, []string{`"plain" is a standard key`, "BYOK needs a root key"}},
		{"disabled key", func(h *harness) string { return h.disabledKey("off") },
			contract.ErrTypeKeyNotActive, []string{"the key is Suspended, not Active", "ibmcloud kp key enable"}},
		{"destroyed key", func(h *harness) string { return h.destroyedKey("gone") },
			contract.ErrTypeKeyNotActive, []string{"the key is Destroyed, not Active", "restore it within 30 days"}},
		{"key of another instance", func(h *harness) string { return h.otherInstanceKey("elsewhere") },
			contract.ErrTypeKeyNotFound, []string{"KEY_NOT_FOUND_ERR", "a key of another Key Protect instance is not visible here"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			keyID := tt.key(h)

			err := h.run(contract.ActivityValidateRootKey, contract.ValidateRootKeyInput{
				RootKeyID: keyID, KPInstanceID: h.emu.Dev.KPInstanceID}, nil)

			requireTyped(t, err, tt.wantType, append(tt.fragments, keyID, "Key Protect instance "+h.emu.Dev.KPInstanceID)...)
		})
	}
}

func TestValidateRootKey_UnknownOperatorKeyIsAccessDenied(t *testing.T) {
	h := newHarness(t)
	key := h.rootKey("some-root")
	env := h.emuEnv()
	env.OperatorAPIKey = "not-a-known-api-key"
	clients, err := dialIBM(env)
	require.NoError(t, err)
	h.acts.kp.keys.Put(env.KPInstanceID, clients.Keys)

	err = h.run(contract.ActivityValidateRootKey, contract.ValidateRootKeyInput{RootKeyID: key.ID}, nil)

	requireTyped(t, err, contract.ErrTypeAccessDenied, "get IAM token for the operator identity", "IBMCLOUD_API_KEY")
	require.NotContains(t, err.Error(), "not-a-known-api-key")
}

func (h *harness) standardKey(name string) string {
	k, err := h.operator.CreateStandardKey(context.Background(), name, nil)
	require.NoError(h.t, err)
	return k.ID
}

func (h *harness) disabledKey(name string) string {
	k := h.rootKey(name)
	require.NoError(h.t, h.operator.DisableKey(context.Background(), k.ID))
	return k.ID
}

func (h *harness) destroyedKey(name string) string {
	k := h.rootKey(name)
	_, err := h.operator.DeleteKey(context.Background(), k.ID, kp.ReturnMinimal)
	require.NoError(h.t, err)
	return k.ID
}

// otherInstanceKey creates a root key in a second Key Protect instance of
// the same account, where the operator is Manager too.
func (h *harness) otherInstanceKey(name string) string {
	const other = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
	d := h.emu.Dev
	require.NoError(h.t, h.emu.Server.AddKPInstance(d.AccountID, other))
	require.NoError(h.t, h.emu.Server.AddUser(d.AccountID, d.OperatorAPIKey, d.OperatorIAMID,
		map[string]string{d.KPInstanceID: "Manager", other: "Manager"}))
	k, err := h.emu.KPClient(h.t, d.OperatorAPIKey, other).CreateRootKey(context.Background(), name, nil)
	require.NoError(h.t, err)
	return k.ID
}
