package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// ListBackupKeys lists the complete backups of an instance with their key
// lineage, oldest first, for a rotation to rewrap their DEKs.
func (a *Activities) ListBackupKeys(ctx context.Context, in contract.ListBackupKeysInput) (contract.ListBackupKeysResult, error) {
	var res contract.ListBackupKeysResult
	all, err := a.catalog.ListBackups(ctx, in.InstanceID)
	if err != nil {
		return res, fmt.Errorf("list backups of instance %q: %w", in.InstanceID, err)
	}
	for _, b := range all {
		if b.State == catalog.BackupComplete {
			res.Backups = append(res.Backups, backupRecord(b))
		}
	}
	return res, nil
}

// UpdateBackupKey records a backup's new key lineage after a rotation
// rewrapped its DEK. Recording the same lineage again is success. A backup
// that stopped being kept meanwhile (deleted, or its key destroyed) has
// nothing to record and is success too: the rotation need not fail for it.
// Fails BackupNotFound for an unknown backup.
func (a *Activities) UpdateBackupKey(ctx context.Context, in contract.UpdateBackupKeyInput) error {
	verb := fmt.Sprintf("record key version %s of backup %s", in.KeyVersionID, in.BackupID)
	if in.KeyVersionID == "" || len(in.WrappedDEK) == 0 {
		return contract.NewError(contract.ErrTypeInvalidInput, verb+": the key version or wrapped DEK is empty", nil)
	}
	b, err := a.catalog.UpdateBackupKey(ctx, in.BackupID, in.WrappedDEK, in.KeyVersionID)
	if errors.Is(err, catalog.ErrInvalidState) {
		return nil
	}
	if err != nil {
		return backupError(err, verb)
	}
	return a.auditOrRetry(ctx, verb, auditEntry{actor: in.RequestedBy, operation: "backup.key-version",
		instanceID: b.InstanceID, rootKeyID: b.RootKeyID, key: in.BackupID + "/" + in.KeyVersionID,
		detail: map[string]any{"backupId": in.BackupID, "keyVersionId": in.KeyVersionID}})
}
