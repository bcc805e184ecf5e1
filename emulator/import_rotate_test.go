package emulator_test

import (
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestRotate_ImportedKeyMaterial(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	s := secureMaterial(t, c, dek(30))
	k, err := c.CreateImportedRootKey(ctx, "rotated", nil, s.key, s.nonce, s.iv)
	require.NoError(t, err)
	ct, err := c.Wrap(ctx, k.ID, b64(dek(1)), nil)
	require.NoError(t, err)

	err = c.RotateV2(ctx, k.ID, nil)
	e := requireKPErr(t, err, http.StatusBadRequest, "KEY_PAYLOAD_REQ_ERR")
	require.Contains(t, e.Reasons[0].Message, "Key material is required to perform a 'rotate' action")

	n := secureMaterial(t, c, dek(31)) // a new token for the new material
	stale := kp.NewKeyPayload(s.key, s.nonce, s.iv).WithRSA256()
	requireKPErr(t, c.RotateV2(ctx, k.ID, &stale), http.StatusBadRequest, "INVALID_FIELD_ERR")
	next := kp.NewKeyPayload(n.key, n.nonce, n.iv).WithRSA256()
	require.NoError(t, c.RotateV2(ctx, k.ID, &next))
	plain := kp.NewKeyPayload(string(b64(dek(32))), "", "")
	require.NoError(t, c.RotateV2(ctx, k.ID, &plain), "plain material rotates a securely imported key too")

	versions, err := c.ListKeyVersions(ctx, k.ID, nil)
	require.NoError(t, err)
	require.Len(t, versions.KeyVersion, 3)
	pt, rewrapped, err := c.UnwrapV2(ctx, k.ID, ct, nil)
	require.NoError(t, err)
	require.Equal(t, b64(dek(1)), pt)
	require.NotEmpty(t, rewrapped, "a ciphertext of the first version is rewrapped to the newest")

	gen := rootKey(t, c, "generated")
	g := secureMaterial(t, c, dek(33))
	payload := kp.NewKeyPayload(g.key, g.nonce, g.iv).WithRSA256()
	requireKPErr(t, c.RotateV2(ctx, gen.ID, &payload), http.StatusBadRequest, "INVALID_QUERY_PARAM_ERR")
}

func TestSecureImport_EnforceTokenPolicy(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	require.NoError(t, c.SetKeyCreateImportAccessInstancePolicy(ctx, true, map[string]bool{
		kp.CreateRootKey: true, kp.CreateStandardKey: true, kp.ImportRootKey: true,
		kp.ImportStandardKey: true, kp.EnforceToken: true}))
	_, err := c.CreateImportedRootKey(ctx, "plain", nil, string(b64(dek(40))), "", "")
	requireKPErr(t, err, http.StatusConflict, "KEY_CREATE_IMPORT_ACCESS_ERR")
	s := secureMaterial(t, c, dek(40))
	k, err := c.CreateImportedRootKey(ctx, "secure", nil, s.key, s.nonce, s.iv)
	require.NoError(t, err)
	plain := kp.NewKeyPayload(string(b64(dek(41))), "", "")
	requireKPErr(t, c.RotateV2(ctx, k.ID, &plain), http.StatusConflict, "KEY_CREATE_IMPORT_ACCESS_ERR")
	_, err = c.CreateRootKey(ctx, "generated", nil)
	require.NoError(t, err, "generated keys need no token")
}

func TestImportToken_SurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first := emulatortest.Start(t, emulatortest.WithDataDir(dir))
	c := first.OperatorClient(t)
	s := secureMaterial(t, c, dek(50))

	second := emulatortest.Start(t, emulatortest.WithDataDir(dir))
	k, err := second.OperatorClient(t).CreateImportedRootKey(ctx, "after-restart", nil, s.key, s.nonce, s.iv)
	require.NoError(t, err)
	require.True(t, k.Imported)
}

func TestSecureImport_LogsNoMaterial(t *testing.T) {
	var logs syncBuffer
	env := emulatortest.Start(t, emulatortest.WithConfig(func(c *emulator.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	c := env.OperatorClient(t)
	_, err := c.CreateImportToken(ctx, 600, 1)
	require.NoError(t, err)
	tok, err := c.GetImportTokenTransportKey(ctx)
	require.NoError(t, err)
	s := encryptFor(t, tok, dek(60), tok.Nonce)
	k, err := c.CreateImportedRootKey(ctx, "logged", nil, s.key, s.nonce, s.iv)
	require.NoError(t, err)
	n := secureMaterial(t, c, dek(61))
	next := kp.NewKeyPayload(n.key, n.nonce, n.iv).WithRSA256()
	require.NoError(t, c.RotateV2(ctx, k.ID, &next))

	out := logs.String()
	require.Contains(t, out, "op=create_import_token", "requests are logged at debug level")
	for name, secret := range map[string]string{
		"material (base64)": string(b64(dek(60))), "material (hex)": hex.EncodeToString(dek(60)),
		"rotated material": string(b64(dek(61))), "nonce": tok.Nonce, "encrypted material": s.key,
		"encrypted nonce": s.nonce,
	} {
		require.False(t, strings.Contains(out, secret), "%s leaked into the log", name)
	}
}
