package catalog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

func sampleBackup(id, instanceID string) catalog.Backup {
	return catalog.Backup{
		ID: id, InstanceID: instanceID, Location: "file:///backups/" + id + ".byok",
		RootKeyID: "root-key-1", KeyVersionID: "version-1",
		WrappedDEK: []byte("wrapped-by-kp-v1"), AADContext: "backup:" + id,
	}
}

func TestCreateBackup_RetryReplacesWhileWriting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	first, err := e.cat.CreateBackup(ctx, sampleBackup("bk-1", "orders-db"))
	require.NoError(t, err)
	require.Equal(t, catalog.BackupWriting, first.State)
	require.Nil(t, first.CompletedAt)

	retry := sampleBackup("bk-1", "orders-db")
	retry.WrappedDEK = []byte("wrapped-again")
	got, err := e.cat.CreateBackup(ctx, retry)
	require.NoError(t, err)
	require.Equal(t, []byte("wrapped-again"), got.WrappedDEK)
	require.Equal(t, first.CreatedAt, got.CreatedAt)
	require.Equal(t, 1, count(t, e.raw, "SELECT count(*) FROM backups"))
}

func TestCreateBackup_Rejects(t *testing.T) {
	tests := []struct {
		name    string
		backup  catalog.Backup
		wantErr error
	}{
		{name: "finished id", backup: sampleBackup("bk-done", "orders-db"), wantErr: catalog.ErrInvalidState},
		{name: "id of another instance", backup: sampleBackup("bk-other", "orders-db"), wantErr: catalog.ErrInvalidState},
		{name: "unknown instance", backup: sampleBackup("bk-new", "missing-db"), wantErr: catalog.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			mustInstance(t, e.cat, "orders-db")
			mustInstance(t, e.cat, "other-db")
			_, err := e.cat.CreateBackup(ctx, sampleBackup("bk-done", "orders-db"))
			require.NoError(t, err)
			_, err = e.cat.CompleteBackup(ctx, "bk-done", 1024, "ab12")
			require.NoError(t, err)
			_, err = e.cat.CreateBackup(ctx, sampleBackup("bk-other", "other-db"))
			require.NoError(t, err)

			_, err = e.cat.CreateBackup(ctx, tt.backup)
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.backup.ID)
			done, err := e.cat.GetBackup(ctx, "bk-done")
			require.NoError(t, err)
			require.Equal(t, []byte("wrapped-by-kp-v1"), done.WrappedDEK)
		})
	}
}

func TestCompleteBackup_Idempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	_, err := e.cat.CreateBackup(ctx, sampleBackup("bk-1", "orders-db"))
	require.NoError(t, err)

	done, err := e.cat.CompleteBackup(ctx, "bk-1", 4096, "cafe")
	require.NoError(t, err)
	require.Equal(t, catalog.BackupComplete, done.State)
	require.Equal(t, int64(4096), done.Bytes)
	require.NotNil(t, done.CompletedAt)

	again, err := e.cat.CompleteBackup(ctx, "bk-1", 4096, "cafe")
	require.NoError(t, err)
	require.Equal(t, done.CompletedAt, again.CompletedAt)

	_, err = e.cat.CompleteBackup(ctx, "bk-1", 4096, "beef")
	require.ErrorIs(t, err, catalog.ErrInvalidState)
	_, err = e.cat.CompleteBackup(ctx, "bk-missing", 1, "00")
	require.ErrorIs(t, err, catalog.ErrNotFound)
	require.ErrorContains(t, err, "bk-missing")
}

func TestUpdateBackupKey_RecordsRewrap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	_, err := e.cat.CreateBackup(ctx, sampleBackup("bk-1", "orders-db"))
	require.NoError(t, err)
	_, err = e.cat.CompleteBackup(ctx, "bk-1", 10, "aa")
	require.NoError(t, err)

	got, err := e.cat.UpdateBackupKey(ctx, "bk-1", []byte("wrapped-by-kp-v2"), "version-2")
	require.NoError(t, err)
	require.Equal(t, "version-2", got.KeyVersionID)
	require.Equal(t, []byte("wrapped-by-kp-v2"), got.WrappedDEK)

	lineage, err := e.cat.BackupsByRootKey(ctx, "root-key-1")
	require.NoError(t, err)
	require.Len(t, lineage, 1)
	require.Equal(t, got, lineage[0])
	require.Equal(t, "root-key-1", lineage[0].RootKeyID, "a rewrap keeps the root key")
	require.Equal(t, catalog.BackupComplete, lineage[0].State)
}

func TestUpdateBackupKey_Rejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	_, err := e.cat.CreateBackup(ctx, sampleBackup("bk-1", "orders-db"))
	require.NoError(t, err)
	_, err = e.cat.SetBackupState(ctx, "bk-1", catalog.BackupUnrecoverable)
	require.NoError(t, err)

	_, err = e.cat.UpdateBackupKey(ctx, "bk-1", []byte("w2"), "version-2")
	require.ErrorIs(t, err, catalog.ErrInvalidState)
	require.ErrorContains(t, err, "unrecoverable")
	_, err = e.cat.UpdateBackupKey(ctx, "bk-missing", []byte("w2"), "version-2")
	require.ErrorIs(t, err, catalog.ErrNotFound)
}

func TestSetBackupState_Rules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	_, err := e.cat.CreateBackup(ctx, sampleBackup("bk-1", "orders-db"))
	require.NoError(t, err)

	_, err = e.cat.SetBackupState(ctx, "bk-1", catalog.BackupComplete)
	require.ErrorIs(t, err, catalog.ErrInvalidState, "complete goes through CompleteBackup")
	got, err := e.cat.SetBackupState(ctx, "bk-1", catalog.BackupDeleted)
	require.NoError(t, err)
	require.Equal(t, catalog.BackupDeleted, got.State)
	_, err = e.cat.SetBackupState(ctx, "bk-1", catalog.BackupDeleted)
	require.NoError(t, err, "deleting again is a no-op")
	_, err = e.cat.SetBackupState(ctx, "bk-1", catalog.BackupFailed)
	require.ErrorIs(t, err, catalog.ErrInvalidState)

	_, err = e.raw.Exec(ctx, "UPDATE backups SET state = 'lost'")
	requirePgCode(t, err, codeCheckViolation)
}

func TestListBackups_PerInstance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	mustInstance(t, e.cat, "other-db")
	for _, b := range []catalog.Backup{
		sampleBackup("bk-1", "orders-db"), sampleBackup("bk-2", "other-db"), sampleBackup("bk-3", "orders-db"),
	} {
		_, err := e.cat.CreateBackup(ctx, b)
		require.NoError(t, err)
	}
	got, err := e.cat.ListBackups(ctx, "orders-db")
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "bk-1", got[0].ID)
	require.Equal(t, "bk-3", got[1].ID)
	_, err = e.cat.GetBackup(ctx, "bk-missing")
	require.ErrorIs(t, err, catalog.ErrNotFound)
}
