package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/byokflow/byokflow/contract"
)

// DeleteBackupFile deletes a pruned backup's file from the backup store
// (retention; the control plane has already erased its wrapped DEK, so the
// file was ciphertext nobody could decrypt). It needs no DEK and no
// server: any node agent that sees the store can run it. A file already
// gone is success (Existed false), so a retry is safe.
func (a *Agent) DeleteBackupFile(ctx context.Context, in contract.DeleteBackupFileInput) (contract.DeleteBackupFileResult, error) {
	op := "delete backup file of " + in.BackupID
	if a.data.backupDir == "" {
		return contract.DeleteBackupFileResult{}, contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf(
			"%s: the node agent on host %s has no backup store: start it with BYOK_BACKUP_DIR set", op, a.host), nil)
	}
	if err := checkBackupIDs(in.BackupID, "db"); err != nil {
		return contract.DeleteBackupFileResult{}, invalidInput(op, err)
	}
	path, err := a.data.backupPath(in.Location)
	if err != nil {
		return contract.DeleteBackupFileResult{}, invalidInput(op, err)
	}
	heartbeat(ctx, "delete backup file")
	err = os.Remove(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return contract.DeleteBackupFileResult{}, nil
	case err != nil:
		return contract.DeleteBackupFileResult{}, fmt.Errorf("%s: %w", op, err)
	}
	return contract.DeleteBackupFileResult{Existed: true}, nil
}
