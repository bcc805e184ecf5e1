package catalog_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/catalog/catalogtest"
)

func TestSetInstanceKeyVersion_RecordsCurrentVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	created, err := e.cat.CreateInstance(ctx, sampleInstance("orders-db"))
	require.NoError(t, err)
	require.Empty(t, created.KeyVersionID, "no current version before activation")

	require.NoError(t, e.cat.SetInstanceKeyVersion(ctx, "orders-db", "version-1"))
	require.NoError(t, e.cat.SetInstanceKeyVersion(ctx, "orders-db", "version-1"), "a retry is a no-op")
	require.NoError(t, e.cat.SetInstanceKeyVersion(ctx, "orders-db", "version-2"))

	got, err := e.cat.GetInstance(ctx, "orders-db")
	require.NoError(t, err)
	require.Equal(t, "version-2", got.KeyVersionID)
	require.Equal(t, "version-1", got.KeyVersionAtCreate, "the version at create is kept")
	require.False(t, got.UpdatedAt.Before(created.UpdatedAt))
	listed, err := e.cat.ListInstances(ctx)
	require.NoError(t, err)
	require.Equal(t, []catalog.Instance{got}, listed)
}

func TestSetInstanceKeyVersion_Rejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	in := sampleInstance("orders-db")
	in.State, in.KeyVersionID = catalog.InstanceShredded, "version-1"
	_, err := e.cat.CreateInstance(ctx, in)
	require.NoError(t, err)

	err = e.cat.SetInstanceKeyVersion(ctx, "orders-db", "version-2")
	require.ErrorIs(t, err, catalog.ErrInvalidState)
	require.ErrorContains(t, err, "orders-db")
	got, err := e.cat.GetInstance(ctx, "orders-db")
	require.NoError(t, err)
	require.Equal(t, "version-1", got.KeyVersionID, "a shredded instance keeps its version")

	err = e.cat.SetInstanceKeyVersion(ctx, "missing-db", "version-2")
	require.ErrorIs(t, err, catalog.ErrNotFound)
	require.ErrorContains(t, err, "missing-db")

	require.ErrorContains(t, e.cat.SetInstanceKeyVersion(ctx, "orders-db", ""), "empty key version id")
}

// A catalog migrated before 0005 gets the current version of its activated
// instances backfilled from the version they were created under.
func TestMigration0005_BackfillsActivatedInstances(t *testing.T) {
	t.Parallel()
	cfg := catalogtest.Config(t)
	raw := catalogtest.Pool(t, cfg)
	ctx := context.Background()
	applyFilesBefore(ctx, t, raw, 5)
	for id, state := range map[string]string{"active-db": "active", "pending-db": "provisioning", "failed-db": "failed"} {
		_, err := raw.Exec(ctx, `INSERT INTO instances (id, crn, kp_instance_id, root_key_id,
			key_version_at_create, database_name, state, node_count, workflow_id)
			VALUES ($1, 'crn:x', 'kp', 'key', 'version-0', 'db', $2, 1, 'wf')`, id, state)
		require.NoError(t, err)
	}

	cat := catalogtest.OpenConfig(t, cfg)

	want := map[string]string{"active-db": "version-0", "pending-db": "", "failed-db": ""}
	for id, version := range want {
		got, err := cat.GetInstance(ctx, id)
		require.NoError(t, err)
		require.Equal(t, version, got.KeyVersionID, id)
	}
}

// applyFilesBefore applies the migration files numbered below version to
// raw's schema and records them in schema_migrations as Open does, so that
// Open applies only the rest.
func applyFilesBefore(ctx context.Context, t *testing.T, raw *pgxpool.Pool, version int) {
	t.Helper()
	_, err := raw.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY,
		name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	require.NoError(t, err)
	for i, name := range migrationFiles(t)[:version-1] {
		body, err := os.ReadFile(filepath.Join("migrations", name))
		require.NoError(t, err)
		_, err = raw.Exec(ctx, string(body))
		require.NoError(t, err, name)
		sum := sha256.Sum256(body)
		_, err = raw.Exec(ctx, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
			i+1, name, hex.EncodeToString(sum[:]))
		require.NoError(t, err)
	}
}
