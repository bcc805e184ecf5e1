package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/catalog/catalogtest"
	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// startCatalog points BYOK_DATABASE_URL at a fresh catalog schema (tier 3;
// skipped without BYOK_TEST_DATABASE) and returns the catalog.
func startCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cfg := catalogtest.Config(t)
	u, err := url.Parse(os.Getenv(catalogtest.EnvVar))
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", cfg.ConnConfig.RuntimeParams["search_path"])
	u.RawQuery = q.Encode()
	t.Setenv("BYOK_DATABASE_URL", u.String())
	return catalogtest.OpenConfig(t, cfg)
}

// activeInstance records an active instance of key in the catalog, as a
// completed provision leaves it.
func activeInstance(t *testing.T, cat *catalog.Catalog, emu *emulatortest.Env, id string, key *kp.Key) {
	t.Helper()
	ctx := context.Background()
	_, err := cat.CreateInstance(ctx, catalog.Instance{ID: id, CRN: "crn:v1:test:" + id, KPInstanceID: emu.Dev.KPInstanceID,
		RootKeyID: key.ID, KeyVersionAtCreate: key.KeyVersion.ID, DatabaseName: "byok_" + id, NodeCount: 1, WorkflowID: "wf"})
	require.NoError(t, err)
	require.NoError(t, cat.SetInstanceKeyVersion(ctx, id, key.KeyVersion.ID))
	require.NoError(t, cat.SetInstanceState(ctx, id, catalog.InstanceActive, ""))
}

func TestKeysListAndShow_NameInstancesAndImport(t *testing.T) {
	emu := startKP(t)
	cat := startCatalog(t)
	c := emu.OperatorClient(t)
	gen, err := c.CreateRootKey(context.Background(), "generated-root", nil)
	require.NoError(t, err)
	activeInstance(t, cat, emu, "orders-db", gen)
	emu.AuthorizeService(t)
	emu.Register(t, gen.ID, "crn:v1:test:orders-db", false)
	path, _ := materialFile(t, 32)
	code, _, stderr := runCLI("keys", "import", "--name", "byok-root", "--material-file", path)
	require.Equal(t, 0, code, stderr)

	code, stdout, stderr := runCLI("keys", "list", "--json")
	require.Equal(t, 0, code, stderr)
	var rows []keyRow
	require.NoError(t, json.Unmarshal([]byte(stdout), &rows))
	require.Len(t, rows, 2)
	byName := map[string]keyRow{rows[0].Name: rows[0], rows[1].Name: rows[1]}
	require.Equal(t, keyRow{ID: gen.ID, Name: "generated-root", State: "Active", KeyVersion: gen.KeyVersion.ID,
		Instances: []string{"orders-db (active)"}}, byName["generated-root"])
	require.True(t, byName["byok-root"].Imported)
	require.Empty(t, byName["byok-root"].Instances)

	code, stdout, stderr = runCLI("keys", "show", "--root-key", gen.ID, "--json")
	require.Equal(t, 0, code, stderr)
	var shown keyShowOutput
	require.NoError(t, json.Unmarshal([]byte(stdout), &shown))
	require.Equal(t, []versionRow{{ID: gen.ID, CreatedAt: shown.Versions[0].CreatedAt}}, shown.Versions)
	require.Equal(t, []registrationRow{{ResourceCRN: "crn:v1:test:orders-db", KeyVersion: gen.ID}}, shown.Registrations)
	require.Equal(t, []string{"orders-db (active)"}, shown.Instances)
	require.False(t, shown.Imported)
}

func TestRotateWithMaterial_RotatesOnceThenOnlyRewraps(t *testing.T) {
	emu := startKP(t)
	cat := startCatalog(t)
	c := emu.OperatorClient(t)
	first, _ := materialFile(t, 32)
	code, stdout, stderr := runCLI("keys", "import", "--name", "byok-root", "--material-file", first, "--json")
	require.Equal(t, 0, code, stderr)
	var imported importOutput
	require.NoError(t, json.Unmarshal([]byte(stdout), &imported))
	key, err := c.GetKeyMetadata(context.Background(), imported.ID)
	require.NoError(t, err)
	activeInstance(t, cat, emu, "byok-db", key)
	next, material := materialFile(t, 32)

	var errOut bytes.Buffer
	a := &app{stdout: &bytes.Buffer{}, stderr: &errOut}
	require.NoError(t, rotateWithMaterial(context.Background(), a, "byok-db", next, true))
	rotated, err := c.GetKeyMetadata(context.Background(), key.ID)
	require.NoError(t, err)
	require.NotEqual(t, key.KeyVersion.ID, rotated.KeyVersion.ID)

	require.NoError(t, rotateWithMaterial(context.Background(), a, "byok-db", next, true), "a re-run before the rewrap")
	require.Contains(t, errOut.String(), "not rotating it again")
	versions, err := c.ListKeyVersions(context.Background(), key.ID, nil)
	require.NoError(t, err)
	require.Len(t, versions.KeyVersion, 2, "rotated once")
	requireNoMaterial(t, errOut.String(), material)
}

func TestRotateWithMaterial_GeneratedKeyRefused(t *testing.T) {
	emu := startKP(t)
	cat := startCatalog(t)
	gen, err := emu.OperatorClient(t).CreateRootKey(context.Background(), "generated-root", nil)
	require.NoError(t, err)
	activeInstance(t, cat, emu, "orders-db", gen)
	path, _ := materialFile(t, 32)

	err = rotateWithMaterial(context.Background(), &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}, "orders-db", path, true)

	require.ErrorContains(t, err, "rotate root key "+gen.ID+" of instance orders-db")
	require.ErrorContains(t, err, "Key Protect generated this key")
	require.ErrorContains(t, err, "without --material-file")
}
