package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// importStack is dataStack with the emulator logging every request, at
// debug level, into the returned buffer.
func importStack(t *testing.T) (*Stack, *syncBuffer) {
	logs := &syncBuffer{}
	s := NewStack(t, emulatortest.WithConfig(func(c *emulator.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	s.StartWorker()
	for _, h := range []string{"a", "b", "c"} {
		s.StartNode(h)
	}
	s.Emu.AuthorizeService(t)
	return s, logs
}

// materialFile writes 32 random bytes, as an HSM would export them.
func materialFile(t *testing.T, name string) (string, []byte) {
	m := make([]byte, 32)
	_, err := rand.Read(m)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, m, 0o600))
	return path, m
}

// recorder runs the starter and keeps what it printed, for the scan.
type recorder struct {
	s   *Stack
	out []byte
}

func (r *recorder) run(args ...string) Result {
	res := r.s.Starter(args...)
	r.out = append(append(r.out, res.Stdout...), res.Stderr...)
	return res
}

func (r *recorder) json(t *testing.T, v any, args ...string) {
	t.Helper()
	res := r.run(args...)
	require.Equal(t, 0, res.Code, "starter %v failed:\n%s", args, res.Stderr)
	require.NoError(t, json.Unmarshal([]byte(res.Stdout), v), "starter %v printed:\n%s", args, res.Stdout)
}

// The customer brings their own key: imported with an import token, it
// protects an instance, rotates with new material from the customer
// (never entering a workflow), keys a backup that restores, and is
// crypto-shredded with proof. Nothing anywhere holds the material.
func TestImportedRootKey_SecureImportRotateRestoreShred(t *testing.T) {
	s, emuLog := importStack(t)
	cli := &recorder{s: s}
	firstFile, first := materialFile(t, "first.key")
	nextFile, next := materialFile(t, "next.key")
	ops := s.Emu.OperatorClient(t)
	ctx := context.Background()

	var imported struct {
		ID               string
		Imported, Secure bool
	}
	cli.json(t, &imported, "keys", "import", "--name", "byok-root", "--material-file", firstFile, "--json")
	require.True(t, imported.Imported && imported.Secure, "%+v", imported)
	key := imported.ID
	require.EqualValues(t, 1, s.Emu.Server.Stats()[emulator.OpCreateImportToken], "secure import used an import token")
	orig := s.provisionWithData(t, "byok", key)
	requireAllAt(t, s.Status(orig).Nodes, 3, key)
	want := s.checksums(t, orig)
	var backup backupDoc
	s.mustJSON(&backup, "backup", "--instance", orig, "--json")

	r := cli.run("rotate", "--instance", orig)
	require.Equal(t, 1, r.Code, r.Stderr)
	require.Contains(t, r.Stderr, "[KeyMaterialRequired]")
	require.Contains(t, r.Stderr, "--material-file")
	var rot statusDoc
	cli.json(t, &rot, "rotate", "--instance", orig, "--material-file", nextFile, "--json")
	require.True(t, rot.Rotated)
	require.NotEqual(t, key, rot.KeyVersion)
	requireAllAt(t, s.Status(orig).Nodes, 3, rot.KeyVersion)
	meta, err := ops.GetKeyMetadata(ctx, key)
	require.NoError(t, err)
	require.Equal(t, rot.KeyVersion, meta.KeyVersion.ID, "rotated in Key Protect with the new material")
	var lineage []backupDoc
	s.mustJSON(&lineage, "backups", "--instance", orig, "--json")
	require.Equal(t, rot.KeyVersion, lineage[0].KeyVersion, "the backup's DEK was rewrapped to the new version")

	copyKey := s.CreateRootKey("byok-copy-root")
	restored := UniqueName("byok-copy")
	s.mustJSON(&statusDoc{}, "restore", "--backup", backup.BackupID, "--instance", restored, "--root-key", copyKey, "--json")
	require.Equal(t, want, s.checksums(t, restored), "restored content equals the original")

	probe, err := ops.Wrap(ctx, key, []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))), nil)
	require.NoError(t, err)
	var cert contract.ShredCertificate
	cli.json(t, &cert, "shred", "--instance", orig, "--include-backups", "--json")
	require.True(t, cert.Key.Imported, "the certificate says the destroyed key was imported")
	require.Contains(t, cert.Statement, "imported root key "+key+" was deleted")
	require.NotNil(t, cert.Proof)
	require.Equal(t, 410, cert.Proof.HTTPStatus)
	_, err = ops.Unwrap(ctx, key, probe, nil)
	var kpErr *kp.Error
	require.ErrorAs(t, err, &kpErr)
	require.Equal(t, 410, kpErr.StatusCode, "the imported key is destroyed")
	for _, n := range s.Status(orig).Nodes {
		require.Equal(t, "destroyed", n.State, "node %s", n.Node)
	}

	t.Run("the material leaves no trace", func(t *testing.T) {
		hist, rows := s.materialHistories(t), s.materialCatalogRows(t)
		require.Contains(t, string(hist), "rotate-"+orig, "the scan reads this test's histories")
		require.Contains(t, string(rows), orig, "the scan reads this test's catalog")
		for where, data := range map[string][]byte{"workflow histories": hist, "worker and node logs": s.processLogs(t),
			"catalog rows": rows, "emulator log": emuLog.Bytes(), "emulator data": s.emulatorFiles(t),
			"starter output": cli.out} {
			require.NotEmpty(t, data, where)
			requireNoMaterial(t, where, data, first, next)
		}
		require.Contains(t, string(emuLog.Bytes()), `"op":"create_import_token"`, "the emulator logged the import")
	})
}
