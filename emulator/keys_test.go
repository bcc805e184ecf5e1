package emulator_test

import (
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

func TestCreateKey_Kinds(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	material := base64.StdEncoding.EncodeToString(dek(7))
	exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	tests := []struct {
		name        string
		create      func() (*kp.Key, error)
		extractable bool
		imported    bool
	}{
		{"generated root", func() (*kp.Key, error) { return c.CreateRootKey(ctx, "root-gen", nil) }, false, false},
		{"generated standard", func() (*kp.Key, error) { return c.CreateStandardKey(ctx, "std-gen", nil) }, true, false},
		{"imported root", func() (*kp.Key, error) { return c.CreateImportedRootKey(ctx, "root-imp", nil, material, "", "") }, false, true},
		{"imported standard", func() (*kp.Key, error) { return c.CreateImportedStandardKey(ctx, "std-imp", nil, material) }, true, true},
		{"with options", func() (*kp.Key, error) {
			return c.CreateKeyWithOptions(ctx, "opts", false, kp.WithDescription("a description"),
				kp.WithExpiration(&exp), kp.WithAliases([]string{"alias-one", "alias_two"}))
		}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := tc.create()
			require.NoError(t, err)
			require.Equal(t, int(kp.Active), k.State)
			require.Equal(t, tc.extractable, k.Extractable)
			require.Equal(t, tc.imported, k.Imported)
			require.Equal(t, k.ID, k.KeyVersion.ID, "first version ID equals key ID")
			require.Equal(t, "default", k.KeyRingID)
			require.Contains(t, k.CRN, ":key:"+k.ID)
			require.Equal(t, env.Dev.OperatorIAMID, k.CreatedBy)
			require.Empty(t, k.Payload, "create never returns material")
			require.NotNil(t, k.CreationDate)
		})
	}
	k, err := c.GetKey(ctx, "alias-one")
	require.NoError(t, err)
	require.Equal(t, "a description", k.Description)
	require.Equal(t, []string{"alias-one", "alias_two"}, k.Aliases)
	require.True(t, exp.Equal(*k.Expiration))
}

func TestCreateKey_InvalidInput(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	past := time.Now().Add(-time.Hour)
	short := base64.StdEncoding.EncodeToString([]byte("too short"))
	tests := []struct {
		name   string
		create func() error
		status int
		code   string
	}{
		{"name too short", func() error { _, err := c.CreateRootKey(ctx, "x", nil); return err }, 400, "INVALID_FIELD_ERR"},
		{"expired date", func() error { _, err := c.CreateRootKey(ctx, "past", &past); return err }, 400, "INVALID_FIELD_ERR"},
		{"bad root payload size", func() error { _, err := c.CreateImportedRootKey(ctx, "bad", nil, short, "", ""); return err }, 400, "INVALID_FIELD_ERR"},
		{"non-base64 payload", func() error { _, err := c.CreateImportedRootKey(ctx, "bad", nil, "***", "", ""); return err }, 400, "INVALID_FIELD_ERR"},
		{"bad alias", func() error { _, err := c.CreateKeyWithAliases(ctx, "bad", nil, false, []string{"wrap"}); return err }, 400, "INVALID_FIELD_ERR"},
		{"six aliases", func() error {
			_, err := c.CreateKeyWithAliases(ctx, "bad", nil, false, []string{"a1", "a2", "a3", "a4", "a5", "a6"})
			return err
		}, 400, "KEY_ALIAS_QUOTA_ERR"},
		{"unknown key ring", func() error {
			rc := env.KPClient(t, env.Dev.OperatorAPIKey, env.Dev.KPInstanceID)
			rc.Config.KeyRing = "no-such-ring"
			_, err := rc.CreateRootKey(ctx, "ringed", nil)
			return err
		}, 404, "KEY_RING_NOT_FOUND_ERR"},
		{"secure import without an import token", func() error {
			_, err := c.CreateImportedRootKey(ctx, "sec", nil, short, "bm9uY2U=", "aXY=")
			return err
		}, 404, "IMPORT_TOKEN_NOT_FOUND_ERR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireKPErr(t, tc.create(), tc.status, tc.code)
		})
	}
}

func TestCreateKey_DuplicateAliasConflicts(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	_, err := c.CreateKeyWithAliases(ctx, "first", nil, false, []string{"shared"})
	require.NoError(t, err)
	_, err = c.CreateKeyWithAliases(ctx, "second", nil, false, []string{"shared"})
	requireKPErr(t, err, http.StatusConflict, "KEY_ALIAS_NOT_UNIQUE_ERR")
}

func TestCreateKey_EnvelopeErrors(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	tok := env.Token(t, env.Dev.OperatorAPIKey)
	res := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"name": "key-" + string(rune('a'+i)), "extractable": false}
		}
		return out
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"empty body", nil, 400, "NO_BODY_ERR"},
		{"null body", "null", 400, "NO_BODY_ERR"},
		{"malformed json", "{", 400, "BAD_BODY_ERR"},
		{"no metadata", map[string]any{"resources": res(1)}, 400, "BAD_BODY_ERR"},
		{"total mismatch", map[string]any{"metadata": map[string]any{"collectionTotal": 2}, "resources": res(1)}, 400, "COLLECTION_TOTAL_MISMATCH_ERR"},
		{"two keys", map[string]any{"metadata": map[string]any{"collectionTotal": 2}, "resources": res(2)}, 400, "BAD_BODY_ERR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := env.Do(t, http.MethodPost, "/api/v2/keys", tok, tc.body, nil)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			requireReason(t, resp, tc.code)
		})
	}
}

// requireReason checks the §4.1 error envelope of a raw answer.
func requireReason(t *testing.T, resp emulatortest.Response, code string) {
	t.Helper()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var env struct {
		Metadata struct {
			CollectionType  string `json:"collectionType"`
			CollectionTotal int    `json:"collectionTotal"`
		} `json:"metadata"`
		Resources []struct {
			ErrorMsg string `json:"errorMsg"`
			Reasons  []struct {
				Code   string `json:"code"`
				Status int    `json:"status"`
			} `json:"reasons"`
		} `json:"resources"`
	}
	resp.JSON(t, &env)
	require.Equal(t, "application/vnd.ibm.kms.error+json", env.Metadata.CollectionType)
	require.Len(t, env.Resources, 1)
	require.NotEmpty(t, env.Resources[0].ErrorMsg)
	if code == "" {
		require.Empty(t, env.Resources[0].Reasons)
		return
	}
	require.Equal(t, code, env.Resources[0].Reasons[0].Code)
	require.Equal(t, resp.Status, env.Resources[0].Reasons[0].Status)
	require.Contains(t, env.Resources[0].ErrorMsg, "("+code+")")
}

func TestGetKey_PayloadOnlyForStandardKeys(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	material := base64.StdEncoding.EncodeToString([]byte("standard key material"))
	std, err := c.CreateImportedStandardKey(ctx, "std", nil, material)
	require.NoError(t, err)
	root := rootKey(t, c, "root")

	got, err := c.GetKey(ctx, std.ID)
	require.NoError(t, err)
	require.Equal(t, material, got.Payload)
	meta, err := c.GetKeyMetadata(ctx, std.ID)
	require.NoError(t, err)
	require.Empty(t, meta.Payload)
	gotRoot, err := c.GetKey(ctx, root.ID)
	require.NoError(t, err)
	require.Empty(t, gotRoot.Payload)
	list, err := c.GetKeys(ctx, 0, 0)
	require.NoError(t, err)
	for _, k := range list.Keys {
		require.Empty(t, k.Payload)
	}
}

func TestGetKey_UnknownIsNotFound(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	for _, name := range []string{"9b3a6a63-0000-4000-8000-000000000000", "no-such-alias"} {
		_, err := c.GetKey(ctx, name)
		e := requireKPErr(t, err, http.StatusNotFound, "KEY_NOT_FOUND_ERR")
		require.Contains(t, e.Message, "Not Found: Key could not be retrieved")
	}
}

func TestGetKey_KeyRingHeaderSetsRing(t *testing.T) {
	env := emulatortest.Start(t, emulatortest.WithMemory())
	c := env.OperatorClient(t)
	require.NoError(t, c.CreateKeyRing(ctx, "ring-a"))
	rc := env.OperatorClient(t)
	rc.Config.KeyRing = "ring-a"
	k, err := rc.CreateRootKey(ctx, "in-ring", nil)
	require.NoError(t, err)
	require.Equal(t, "ring-a", k.KeyRingID)
	moved, err := c.SetKeyRing(ctx, k.ID, "default")
	require.NoError(t, err)
	require.Equal(t, "default", moved.KeyRingID)
}
