package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

// completeBackup records a complete backup of instanceID.
func completeBackup(t *testing.T, c *catalog.Catalog, id, instanceID string) catalog.Backup {
	t.Helper()
	ctx := context.Background()
	_, err := c.CreateBackup(ctx, sampleBackup(id, instanceID))
	require.NoError(t, err)
	b, err := c.CompleteBackup(ctx, id, 100, "c0ffee")
	require.NoError(t, err)
	return b
}

func TestPruneBackup_ErasesTheKeyAndKeepsTheLineage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	completeBackup(t, e.cat, "bk-1", "orders-db")

	pruned, err := e.cat.PruneBackup(ctx, "bk-1")
	require.NoError(t, err)
	require.Equal(t, catalog.BackupPruned, pruned.State)
	require.Empty(t, pruned.WrappedDEK)
	require.NotNil(t, pruned.PrunedAt)
	require.Nil(t, pruned.FileDeletedAt)
	require.Equal(t, "root-key-1", pruned.RootKeyID)
	require.Equal(t, "version-1", pruned.KeyVersionID)
	require.Equal(t, "c0ffee", pruned.SHA256)

	again, err := e.cat.PruneBackup(ctx, "bk-1")
	require.NoError(t, err)
	require.Equal(t, pruned.PrunedAt, again.PrunedAt, "idempotent")

	gone, err := e.cat.MarkBackupFileDeleted(ctx, "bk-1")
	require.NoError(t, err)
	require.NotNil(t, gone.FileDeletedAt)
	_, err = e.cat.UpdateBackupKey(ctx, "bk-1", []byte("rewrapped"), "version-2")
	require.ErrorIs(t, err, catalog.ErrInvalidState, "a rotation never rewraps a pruned backup")
}

func TestPruneBackup_Refuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	_, err := e.cat.CreateBackup(ctx, sampleBackup("bk-w", "orders-db"))
	require.NoError(t, err)
	_, err = e.cat.PruneBackup(ctx, "bk-w")
	require.ErrorIs(t, err, catalog.ErrInvalidState, "a writing backup")
	_, err = e.cat.MarkBackupFileDeleted(ctx, "bk-w")
	require.ErrorIs(t, err, catalog.ErrInvalidState, "not pruned")
	_, err = e.cat.PruneBackup(ctx, "nope")
	require.ErrorIs(t, err, catalog.ErrNotFound)
}

func TestExpiredBackups_OldCompleteAndHalfPruned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	for _, id := range []string{"bk-1", "bk-2", "bk-3", "bk-4"} {
		completeBackup(t, e.cat, id, "orders-db")
	}
	_, err := e.raw.Exec(ctx, "UPDATE backups SET created_at = now() - interval '10 days' WHERE id IN ('bk-1', 'bk-2', 'bk-3')")
	require.NoError(t, err)
	_, err = e.cat.PruneBackup(ctx, "bk-2") // file not yet deleted: listed again
	require.NoError(t, err)
	_, err = e.cat.PruneBackup(ctx, "bk-3")
	require.NoError(t, err)
	_, err = e.cat.MarkBackupFileDeleted(ctx, "bk-3") // done: not listed
	require.NoError(t, err)

	got, err := e.cat.ExpiredBackups(ctx, "orders-db", time.Now().Add(-7*24*time.Hour), "")
	require.NoError(t, err)
	ids := make([]string, len(got))
	for i, b := range got {
		ids[i] = b.ID
	}
	require.ElementsMatch(t, []string{"bk-1", "bk-2"}, ids)

	got, err = e.cat.ExpiredBackups(ctx, "orders-db", time.Now().Add(time.Hour), "bk-4")
	require.NoError(t, err)
	require.Len(t, got, 2, "bk-4 is excepted however old")
}
