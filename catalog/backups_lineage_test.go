package catalog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

// A backup is recorded before its node writes it: the location and the
// wrapped DEK come with the node's report.
func TestCreateBackup_WritingWithoutLineageThenComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	bare := catalog.Backup{ID: "bk-1", InstanceID: "orders-db", RootKeyID: "root-key-1", WrappedDEK: []byte{}}

	first, err := e.cat.CreateBackup(ctx, bare)
	require.NoError(t, err)
	require.Equal(t, catalog.BackupWriting, first.State)
	require.Empty(t, first.Location)
	written, err := e.cat.CreateBackup(ctx, sampleBackup("bk-1", "orders-db"))
	require.NoError(t, err)
	done, err := e.cat.CompleteBackup(ctx, "bk-1", 2048, "cd34")

	require.NoError(t, err)
	require.Equal(t, written.WrappedDEK, done.WrappedDEK)
	require.Equal(t, catalog.BackupComplete, done.State)
}

func TestBackupLineage_RequiredOnceCompleteOrUnrecoverable(t *testing.T) {
	for _, state := range []catalog.BackupState{catalog.BackupComplete, catalog.BackupUnrecoverable} {
		t.Run(string(state), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			mustInstance(t, e.cat, "orders-db")
			_, err := e.cat.CreateBackup(ctx, catalog.Backup{ID: "bk-1", InstanceID: "orders-db",
				RootKeyID: "root-key-1", WrappedDEK: []byte{}})
			require.NoError(t, err)

			if state == catalog.BackupComplete {
				_, err = e.cat.CompleteBackup(ctx, "bk-1", 1, "ab")
			} else {
				_, err = e.cat.SetBackupState(ctx, "bk-1", state)
			}

			requirePgCode(t, err, codeCheckViolation)
			failed, err := e.cat.SetBackupState(ctx, "bk-1", catalog.BackupFailed)
			require.NoError(t, err, "a failed backup needs no lineage")
			require.Equal(t, catalog.BackupFailed, failed.State)
		})
	}
}
