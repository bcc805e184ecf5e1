package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// startKP points the starter's environment at an in-process emulator.
func startKP(t *testing.T) *emulatortest.Env {
	t.Helper()
	emu := emulatortest.Start(t)
	for _, line := range emu.Dev.ExportLines(emu.URL) {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		t.Setenv(k, v)
	}
	return emu
}

// materialFile writes n random bytes to a file and returns its path and
// the bytes.
func materialFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "material.bin")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path, b
}

// requireNoMaterial asserts that no form of material appears in s.
func requireNoMaterial(t *testing.T, s string, material []byte) {
	t.Helper()
	for name, form := range map[string]string{"raw": string(material), "hex": hex.EncodeToString(material),
		"base64": base64.StdEncoding.EncodeToString(material), "base64url": base64.RawURLEncoding.EncodeToString(material)} {
		require.NotContains(t, s, form, "the material (%s) leaked", name)
	}
}

func TestKeysImport_SecureByDefault(t *testing.T) {
	emu := startKP(t)
	path, material := materialFile(t, 32)

	code, stdout, stderr := runCLI("keys", "import", "--name", "byok-root", "--material-file", path, "--json")

	require.Equal(t, 0, code, stderr)
	var out importOutput
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.True(t, out.Imported)
	require.True(t, out.Secure)
	require.Equal(t, out.ID, out.KeyVersion, "the first version id is the key id")
	stats := emu.Server.Stats()
	require.EqualValues(t, 1, stats[emulator.OpCreateImportToken], "%v", stats)
	require.EqualValues(t, 1, stats[emulator.OpGetImportToken], "%v", stats)
	require.EqualValues(t, 1, stats[emulator.OpCreateKey], "%v", stats)
	requireNoMaterial(t, stdout+stderr, material)
}

func TestKeysImport_PlainWhenNotSecure(t *testing.T) {
	emu := startKP(t)
	path, material := materialFile(t, 16)

	code, stdout, stderr := runCLI("keys", "import", "--name", "plain-root", "--material-file", path, "--secure=false")

	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "as a plain payload")
	require.Zero(t, emu.Server.Stats()[emulator.OpCreateImportToken])
	key, err := emu.OperatorClient(t).GetKeyMetadata(context.Background(), strings.Fields(stdout)[3])
	require.NoError(t, err)
	require.True(t, key.Imported)
	requireNoMaterial(t, stdout+stderr, material)
}

func TestKeysImport_BadMaterialFileSendsNothing(t *testing.T) {
	emu := startKP(t)
	short, material := materialFile(t, 20)
	tests := map[string]struct{ path, want string }{
		"wrong size":   {short, "it holds 20 bytes: root key material is 16, 24 or 32 raw bytes"},
		"missing file": {filepath.Join(t.TempDir(), "absent"), "no such file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI("keys", "import", "--name", "refused", "--material-file", tc.path)
			require.Equal(t, 1, code)
			require.Contains(t, stderr, tc.want)
			requireNoMaterial(t, stdout+stderr, material)
		})
	}
	require.Zero(t, emu.Server.Stats()[emulator.OpCreateKey])
	require.Zero(t, emu.Server.Stats()[emulator.OpCreateImportToken])
}
