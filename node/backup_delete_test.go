package node

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func TestDeleteBackupFile_DeletesOnceThenSucceedsAgain(t *testing.T) {
	dir := t.TempDir()
	a := &Agent{host: "a", data: dataConfig{backupDir: dir}}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "orders-db-1.byok"), []byte("ciphertext"), 0o600))
	in := contract.DeleteBackupFileInput{BackupID: "orders-db-1", Location: "orders-db-1.byok"}

	res, err := a.DeleteBackupFile(context.Background(), in)
	require.NoError(t, err)
	require.True(t, res.Existed)
	require.NoFileExists(t, filepath.Join(dir, "orders-db-1.byok"))

	res, err = a.DeleteBackupFile(context.Background(), in)
	require.NoError(t, err)
	require.False(t, res.Existed, "a retry finds it gone")
}

func TestDeleteBackupFile_OutsideTheStoreIsInvalidInput(t *testing.T) {
	a := &Agent{host: "a", data: dataConfig{backupDir: t.TempDir()}}

	_, err := a.DeleteBackupFile(context.Background(), contract.DeleteBackupFileInput{BackupID: "x-1", Location: "../etc/passwd"})

	require.Equal(t, contract.ErrTypeInvalidInput, contract.ErrorType(err))
}
