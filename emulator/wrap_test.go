package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestWrap_RoundTripWithAAD(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	env.AuthorizeService(t)
	k := rootKey(t, env.OperatorClient(t), "wrapper")
	c := env.ServiceClient(t)
	aad := []string{"instance-1", "node-2"}

	res, err := c.WrapV2(ctx, k.ID, b64(dek(1)), &aad)
	require.NoError(t, err)
	require.Equal(t, k.ID, res.KeyVersion.ID)
	require.Empty(t, res.PlainText)

	pt, rewrapped, err := c.UnwrapV2(ctx, k.ID, []byte(res.CipherText), &aad)
	require.NoError(t, err)
	require.Equal(t, b64(dek(1)), pt)
	require.Empty(t, rewrapped, "no rewrap hint under the latest version")

	outer, err := base64.StdEncoding.DecodeString(res.CipherText)
	require.NoError(t, err)
	var doc map[string]string
	require.NoError(t, json.Unmarshal(outer, &doc))
	require.Equal(t, "4.0.0", doc["version"])
	require.Equal(t, k.ID, doc["handle"])
}

func TestWrap_GeneratesDEK(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "generator")
	pt, ct, err := c.WrapCreateDEK(ctx, k.ID, nil)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(string(pt))
	require.NoError(t, err)
	require.Len(t, raw, 32)
	got, err := c.Unwrap(ctx, k.ID, ct, nil)
	require.NoError(t, err)
	require.Equal(t, pt, got)
}

func TestUnwrap_Refusals(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "first")
	other := rootKey(t, c, "second")
	aad := []string{"a"}
	ct, err := c.Wrap(ctx, k.ID, b64(dek(2)), &aad)
	require.NoError(t, err)
	outer, _ := base64.StdEncoding.DecodeString(string(ct))
	var doc map[string]string
	require.NoError(t, json.Unmarshal(outer, &doc))
	doc["ciphertext"] = base64.StdEncoding.EncodeToString(append([]byte{1}, []byte(doc["ciphertext"])[1:]...))
	tampered, _ := json.Marshal(doc)
	wrongAAD := []string{"b"}
	tests := []struct {
		name   string
		keyID  string
		ct     []byte
		aad    *[]string
		status int
		code   string
	}{
		{"wrong aad", k.ID, ct, &wrongAAD, 422, "UNPROCESSABLE_CIPHERTEXT_ERR"},
		{"missing aad", k.ID, ct, nil, 422, "UNPROCESSABLE_CIPHERTEXT_ERR"},
		{"other key", other.ID, ct, &aad, 422, "UNPROCESSABLE_CIPHERTEXT_ERR"},
		{"tampered", k.ID, b64(tampered), &aad, 422, "UNPROCESSABLE_CIPHERTEXT_ERR"},
		{"base64 of junk", k.ID, b64([]byte("junk")), &aad, 422, "UNPROCESSABLE_CIPHERTEXT_ERR"},
		{"not base64", k.ID, []byte("%%%"), &aad, 400, "INVALID_FIELD_ERR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Unwrap(ctx, tc.keyID, tc.ct, tc.aad)
			requireKPErr(t, err, tc.status, tc.code)
		})
	}
}

func TestWrap_StandardKeyRefused(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	std, err := c.CreateStandardKey(ctx, "standard", nil)
	require.NoError(t, err)
	_, err = c.Wrap(ctx, std.ID, b64(dek(3)), nil)
	requireKPErr(t, err, http.StatusBadRequest, "KEY_ROOT_REQ_ERR")
	requireKPErr(t, c.Rotate(ctx, std.ID, ""), http.StatusBadRequest, "KEY_ROOT_REQ_ERR")
	requireKPErr(t, c.DisableKey(ctx, std.ID), http.StatusBadRequest, "KEY_ROOT_REQ_ERR")
}

func TestWrap_NonBase64PlaintextRefused(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	k := rootKey(t, env.OperatorClient(t), "strict")
	resp := env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"/actions/wrap", env.Token(t, env.Dev.OperatorAPIKey),
		`{"plaintext":"not base64!"}`, nil)
	require.Equal(t, http.StatusBadRequest, resp.Status)
	requireReason(t, resp, "INVALID_FIELD_ERR")
}

func TestUnwrap_AfterRotationReturnsRewrap(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "rotating")
	aad := []string{"x"}
	old, err := c.WrapV2(ctx, k.ID, b64(dek(4)), &aad)
	require.NoError(t, err)
	require.NoError(t, c.Rotate(ctx, k.ID, ""))
	fresh, err := c.WrapV2(ctx, k.ID, b64(dek(4)), &aad)
	require.NoError(t, err)
	require.NotEqual(t, k.ID, fresh.KeyVersion.ID, "wrap uses the new version")

	pt, rewrapped, err := c.UnwrapV2(ctx, k.ID, []byte(old.CipherText), &aad)
	require.NoError(t, err)
	require.Equal(t, b64(dek(4)), pt)
	require.NotEmpty(t, rewrapped)
	_, again, err := c.UnwrapV2(ctx, k.ID, rewrapped, &aad)
	require.NoError(t, err)
	require.Empty(t, again, "the rewrapped ciphertext is under the latest version")

	tok := env.Token(t, env.Dev.OperatorAPIKey)
	resp := env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"/actions/unwrap", tok,
		map[string]any{"ciphertext": old.CipherText, "aad": aad}, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	var body struct {
		KeyVersion          struct{ ID string } `json:"keyVersion"`
		RewrappedKeyVersion struct{ ID string } `json:"rewrappedKeyVersion"`
	}
	resp.JSON(t, &body)
	require.Equal(t, k.ID, body.KeyVersion.ID)
	require.Equal(t, fresh.KeyVersion.ID, body.RewrappedKeyVersion.ID)
}

func TestRewrap_MovesToLatestVersion(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	k := rootKey(t, c, "rewrapping")
	ct, err := c.Wrap(ctx, k.ID, b64(dek(5)), nil)
	require.NoError(t, err)
	require.NoError(t, c.Rotate(ctx, k.ID, ""))
	resp := env.Do(t, http.MethodPost, "/api/v2/keys/"+k.ID+"/actions/rewrap", env.Token(t, env.Dev.OperatorAPIKey),
		map[string]any{"ciphertext": string(ct)}, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var body struct {
		Ciphertext          string              `json:"ciphertext"`
		Plaintext           string              `json:"plaintext"`
		KeyVersion          struct{ ID string } `json:"keyVersion"`
		RewrappedKeyVersion struct{ ID string } `json:"rewrappedKeyVersion"`
	}
	resp.JSON(t, &body)
	require.Empty(t, body.Plaintext, "rewrap never returns the plaintext")
	require.Equal(t, k.ID, body.KeyVersion.ID)
	latest, err := c.GetKeyMetadata(ctx, k.ID)
	require.NoError(t, err)
	require.Equal(t, latest.KeyVersion.ID, body.RewrappedKeyVersion.ID)
	pt, hint, err := c.UnwrapV2(ctx, k.ID, []byte(body.Ciphertext), nil)
	require.NoError(t, err)
	require.Equal(t, b64(dek(5)), pt)
	require.Empty(t, hint)
}

func TestRotate_ImportedKeyNeedsPayload(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	imp, err := c.CreateImportedRootKey(ctx, "imported", nil, string(b64(dek(6))), "", "")
	require.NoError(t, err)
	gen := rootKey(t, c, "generated")
	requireKPErr(t, c.Rotate(ctx, imp.ID, ""), http.StatusBadRequest, "KEY_PAYLOAD_REQ_ERR")
	requireKPErr(t, c.Rotate(ctx, gen.ID, string(b64(dek(7)))), http.StatusBadRequest, "INVALID_QUERY_PARAM_ERR")
	ct, err := c.Wrap(ctx, imp.ID, b64(dek(1)), nil)
	require.NoError(t, err)
	require.NoError(t, c.RotateV2(ctx, imp.ID, ptrTo(kp.NewKeyPayload(string(b64(dek(8))), "", ""))))
	pt, hint, err := c.UnwrapV2(ctx, imp.ID, ct, nil)
	require.NoError(t, err)
	require.Equal(t, b64(dek(1)), pt)
	require.NotEmpty(t, hint)
}
