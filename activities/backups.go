package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// LoadBackup reads a backup record with its key lineage. Fails
// BackupNotFound.
func (a *Activities) LoadBackup(ctx context.Context, in contract.LoadBackupInput) (contract.BackupRecord, error) {
	b, err := a.catalog.GetBackup(ctx, in.BackupID)
	if err != nil {
		return contract.BackupRecord{}, backupError(err, "load backup "+in.BackupID)
	}
	return backupRecord(b), nil
}

// CreateBackupRecord records the backup in state writing before its node
// writes it, so that a failed backup leaves a failed record. A writing
// record of the same instance (an earlier attempt's) is success. Fails
// InstanceNotFound, or InvalidInput when the id is taken by a finished
// backup or by another instance.
func (a *Activities) CreateBackupRecord(ctx context.Context, in contract.CreateBackupRecordInput) error {
	verb := fmt.Sprintf("create backup record %s of instance %q", in.BackupID, in.InstanceID)
	if err := contract.ValidateBackupID(in.BackupID); err != nil {
		return contract.NewError(contract.ErrTypeInvalidInput, verb+": "+err.Error(), nil)
	}
	existing, err := a.catalog.GetBackup(ctx, in.BackupID)
	switch {
	case err == nil && existing.InstanceID == in.InstanceID && existing.State == catalog.BackupWriting:
		return nil
	case err == nil:
		return backupIDTaken(verb, existing)
	case !errors.Is(err, catalog.ErrNotFound):
		return fmt.Errorf("%s: %w", verb, err)
	}
	_, err = a.catalog.CreateBackup(ctx, catalog.Backup{ID: in.BackupID, InstanceID: in.InstanceID,
		RootKeyID: in.RootKeyID, KeyVersionID: in.KeyVersionID, WrappedDEK: []byte{}})
	if err != nil {
		return a.catalogError(err, verb)
	}
	return a.auditOrRetry(ctx, verb, auditEntry{actor: in.RequestedBy, operation: "backup.create",
		instanceID: in.InstanceID, rootKeyID: in.RootKeyID, key: in.BackupID,
		detail: map[string]any{"backupId": in.BackupID, "keyVersionId": in.KeyVersionID}})
}

func backupIDTaken(verb string, existing catalog.Backup) error {
	msg := fmt.Sprintf("%s: backup id %s is taken by a %s backup of instance %q: start the backup again "+
		"(the next second gives a new id)", verb, existing.ID, existing.State, existing.InstanceID)
	return contract.NewError(contract.ErrTypeInvalidInput, msg, nil)
}

// CompleteBackupRecord records what the node wrote (location, size,
// SHA-256 and key lineage) and marks the backup complete. A backup already
// complete with the same checksum is success.
func (a *Activities) CompleteBackupRecord(ctx context.Context, in contract.CompleteBackupRecordInput) error {
	verb := fmt.Sprintf("complete backup record %s of instance %q", in.BackupID, in.InstanceID)
	if in.Location == "" || in.SHA256 == "" || len(in.WrappedDEK) == 0 || in.KeyVersionID == "" {
		return contract.NewError(contract.ErrTypeInvalidInput, verb+": the node reported no location, "+
			"checksum, wrapped DEK or key version: check the node agent's version", nil)
	}
	if err := a.recordLineage(ctx, in); err != nil {
		return backupError(err, verb)
	}
	return a.auditOrRetry(ctx, verb, auditEntry{actor: in.RequestedBy, operation: "backup.complete",
		instanceID: in.InstanceID, rootKeyID: in.RootKeyID, key: in.BackupID, detail: map[string]any{
			"backupId": in.BackupID, "location": in.Location, "bytes": in.Bytes, "sha256": in.SHA256,
			"keyVersionId": in.KeyVersionID}})
}

// recordLineage stores the node's lineage while the backup is writing,
// then completes it; a backup already complete with the same checksum is
// left as it is (a retry after the first attempt completed it).
func (a *Activities) recordLineage(ctx context.Context, in contract.CompleteBackupRecordInput) error {
	cur, err := a.catalog.GetBackup(ctx, in.BackupID)
	if err != nil || (cur.State == catalog.BackupComplete && cur.SHA256 == in.SHA256) {
		return err
	}
	aad, err := json.Marshal(in.AAD)
	if err != nil {
		return err
	}
	_, err = a.catalog.CreateBackup(ctx, catalog.Backup{ID: in.BackupID, InstanceID: in.InstanceID,
		Location: in.Location, RootKeyID: in.RootKeyID, KeyVersionID: in.KeyVersionID,
		WrappedDEK: in.WrappedDEK, AADContext: string(aad)})
	if err != nil {
		return err
	}
	_, err = a.catalog.CompleteBackup(ctx, in.BackupID, in.Bytes, in.SHA256)
	return err
}

// FailBackupRecord compensates CreateBackupRecord: a writing backup becomes
// failed, with the reason in the audit trail. A missing or finished
// backup is left as it is, so the compensation may be retried.
func (a *Activities) FailBackupRecord(ctx context.Context, in contract.FailBackupRecordInput) error {
	verb := "mark backup " + in.BackupID + " failed"
	cur, err := a.catalog.GetBackup(ctx, in.BackupID)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	if cur.State == catalog.BackupWriting {
		if _, err := a.catalog.SetBackupState(ctx, in.BackupID, catalog.BackupFailed); err != nil {
			return backupError(err, verb)
		}
	}
	if cur.State != catalog.BackupWriting && cur.State != catalog.BackupFailed {
		return nil
	}
	return a.auditOrRetry(ctx, verb, auditEntry{operation: "backup.failed", instanceID: cur.InstanceID,
		rootKeyID: cur.RootKeyID, key: in.BackupID, detail: map[string]any{"backupId": in.BackupID,
			"reason": truncate(in.Reason)}})
}

// backupRecord converts a catalog backup for the contract.
func backupRecord(b catalog.Backup) contract.BackupRecord {
	return contract.BackupRecord{BackupID: b.ID, InstanceID: b.InstanceID, Location: b.Location,
		Bytes: b.Bytes, SHA256: b.SHA256, RootKeyID: b.RootKeyID, KeyVersionID: b.KeyVersionID,
		WrappedDEK: b.WrappedDEK, AAD: backupAAD(b), State: contract.BackupState(b.State)}
}

// backupAAD decodes the AAD stored with a backup (a JSON array), or
// derives it from the id when none was stored.
func backupAAD(b catalog.Backup) []string {
	var aad []string
	if b.AADContext == "" || json.Unmarshal([]byte(b.AADContext), &aad) != nil || len(aad) == 0 {
		return contract.BackupAAD(b.ID)
	}
	return aad
}

// backupError classifies a catalog error about a backup: an unknown
// backup is BackupNotFound, a state that forbids the change InvalidInput,
// anything else (the database unreachable) transient.
func backupError(err error, verb string) error {
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		return contract.NewError(contract.ErrTypeBackupNotFound,
			fmt.Sprintf("%s: no such backup in the catalog: check the backup id with `starter backups`", verb), nil)
	case errors.Is(err, catalog.ErrInvalidState):
		return contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("%s: %v", verb, err), nil)
	}
	return fmt.Errorf("%s: %w", verb, err)
}
