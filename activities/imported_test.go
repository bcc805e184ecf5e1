package activities

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// importedKey imports 32 random bytes as a root key, with an import token
// (secure) or as a plain payload, with the operator's client.
func (h *harness) importedKey(name string, secure bool) *kp.Key {
	h.t.Helper()
	ctx := context.Background()
	material := base64.StdEncoding.EncodeToString(randomMaterial(h.t))
	payload, nonce, iv := material, "", ""
	if secure {
		payload, nonce, iv = h.sealForImport(material)
	}
	k, err := h.operator.CreateImportedRootKey(ctx, name, nil, payload, nonce, iv)
	require.NoError(h.t, err)
	require.True(h.t, k.Imported)
	return k
}

// sealForImport creates an import token and encrypts material with it.
func (h *harness) sealForImport(material string) (payload, nonce, iv string) {
	h.t.Helper()
	ctx := context.Background()
	_, err := h.operator.CreateImportToken(ctx, 600, 1)
	require.NoError(h.t, err)
	tok, err := h.operator.GetImportTokenTransportKey(ctx)
	require.NoError(h.t, err)
	payload, err = kp.EncryptKey(material, tok.Payload)
	require.NoError(h.t, err)
	nonce, iv, err = kp.EncryptNonce(material, tok.Nonce, "")
	require.NoError(h.t, err)
	return payload, nonce, iv
}

func randomMaterial(t *testing.T) []byte {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestValidateRootKey_ImportedKeysAccepted(t *testing.T) {
	h := newHarness(t)
	for _, secure := range []bool{false, true} {
		key := h.importedKey("imported-root", secure)

		var res contract.ValidateRootKeyResult
		err := h.run(contract.ActivityValidateRootKey, contract.ValidateRootKeyInput{
			RootKeyID: key.ID, KPInstanceID: h.emu.Dev.KPInstanceID}, &res)

		require.NoError(t, err, "secure import: %v", secure)
		require.Equal(t, contract.ValidateRootKeyResult{KeyVersionID: key.KeyVersion.ID, KeyName: "imported-root",
			KeyCRN: key.CRN, Imported: true}, res)
	}
}

func TestRotateKey_ImportedKeyNeedsMaterial(t *testing.T) {
	h := newHarness(t)
	key := h.importedKey("byok-root", true)

	err := h.run(contract.ActivityRotateKey, contract.RotateKeyInput{RootKeyID: key.ID,
		FromVersionID: key.KeyVersion.ID}, nil)

	requireTyped(t, err, contract.ErrTypeKeyMaterialRequired, "rotate root key "+key.ID,
		"the key was imported", "KEY_PAYLOAD_REQ_ERR", "--material-file", "--rewrap-only")
	now, err := h.operator.GetKeyMetadata(context.Background(), key.ID)
	require.NoError(t, err)
	require.Equal(t, key.KeyVersion.ID, now.KeyVersion.ID, "nothing was rotated")
}

func TestReadKeyVersion_AfterRotationWithMaterial(t *testing.T) {
	h := newHarness(t)
	key := h.importedKey("byok-root", false)
	payload, nonce, iv := h.sealForImport(base64.StdEncoding.EncodeToString(randomMaterial(t)))
	next := kp.NewKeyPayload(payload, nonce, iv).WithRSA256()
	require.NoError(t, h.operator.RotateV2(context.Background(), key.ID, &next))

	var res contract.ReadKeyVersionResult
	err := h.run(contract.ActivityReadKeyVersion, contract.ReadKeyVersionInput{RootKeyID: key.ID}, &res)

	require.NoError(t, err)
	require.NotEqual(t, key.KeyVersion.ID, res.KeyVersionID, "the rewrap path sees the operator's rotation")
}

func TestGetKeyState_ImportedFlag(t *testing.T) {
	h := newHarness(t)
	for _, key := range []*kp.Key{h.rootKey("generated"), h.importedKey("imported", true)} {
		var state contract.RootKeyState
		require.NoError(t, h.run(contract.ActivityGetKeyState, contract.GetKeyStateInput{RootKeyID: key.ID}, &state))
		require.Equal(t, key.Imported, state.Imported, "key %s", key.Name)
	}
}
