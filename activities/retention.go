package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// ListFleet lists the active instances on a root key, or every active
// instance, sorted by id: the fleet a FleetRotate rotates.
func (a *Activities) ListFleet(ctx context.Context, in contract.ListFleetInput) (contract.ListFleetResult, error) {
	var (
		list []catalog.Instance
		err  error
	)
	if in.All {
		list, err = a.catalog.ListInstances(ctx)
	} else {
		list, err = a.catalog.InstancesByRootKey(ctx, in.RootKeyID)
	}
	if err != nil {
		return contract.ListFleetResult{}, fmt.Errorf("list the instances to rotate: %w", err)
	}
	slices.SortFunc(list, func(x, y catalog.Instance) int { return strings.Compare(x.ID, y.ID) })
	res := contract.ListFleetResult{InstanceIDs: []string{}, RootKeyIDs: []string{}}
	for _, inst := range list {
		if inst.State == catalog.InstanceActive {
			res.InstanceIDs = append(res.InstanceIDs, inst.ID)
			res.RootKeyIDs = append(res.RootKeyIDs, inst.RootKeyID)
		}
	}
	return res, nil
}

// ListExpiredBackups lists what a prune removes: the instance's complete
// backups created before in.Before and its pruned backups whose file is
// not yet deleted, never in.Except.
func (a *Activities) ListExpiredBackups(ctx context.Context, in contract.ListExpiredBackupsInput) (
	contract.ListExpiredBackupsResult, error) {
	list, err := a.catalog.ExpiredBackups(ctx, in.InstanceID, in.Before, in.Except)
	if err != nil {
		return contract.ListExpiredBackupsResult{}, err
	}
	out := contract.ListExpiredBackupsResult{Backups: []contract.ExpiredBackup{}}
	for _, b := range list {
		out.Backups = append(out.Backups, contract.ExpiredBackup{BackupID: b.ID, Location: b.Location,
			State: contract.BackupState(b.State), CreatedAt: b.CreatedAt})
	}
	return out, nil
}

// EraseBackupKey crypto-erases a backup retention prunes: the catalog
// clears its wrapped DEK (the only copy of its DEK), so its file can
// never be decrypted again, and marks it pruned; the audit records it.
// Idempotent: a pruned backup returns its first prune time.
func (a *Activities) EraseBackupKey(ctx context.Context, in contract.EraseBackupKeyInput) (
	contract.EraseBackupKeyResult, error) {
	verb := "prune backup " + in.BackupID
	b, err := a.catalog.PruneBackup(ctx, in.BackupID)
	if err != nil {
		return contract.EraseBackupKeyResult{}, backupError(err, verb)
	}
	err = a.auditOrRetry(ctx, verb, auditEntry{actor: in.RequestedBy, operation: "backup.pruned",
		instanceID: b.InstanceID, rootKeyID: b.RootKeyID, key: b.ID, detail: map[string]any{
			"backupId": b.ID, "keep": in.Keep.String(), "createdAt": b.CreatedAt.UTC().Format(time.RFC3339),
			"wrappedDekErased": true, "keyVersionId": b.KeyVersionID}})
	return contract.EraseBackupKeyResult{PrunedAt: *b.PrunedAt}, err
}

// RecordBackupFileDeleted records that a pruned backup's file is gone from
// the backup store, in the catalog and the audit. Idempotent.
func (a *Activities) RecordBackupFileDeleted(ctx context.Context, in contract.RecordBackupFileDeletedInput) error {
	verb := "record the deleted file of backup " + in.BackupID
	b, err := a.catalog.MarkBackupFileDeleted(ctx, in.BackupID)
	if err != nil {
		return backupError(err, verb)
	}
	return a.auditOrRetry(ctx, verb, auditEntry{actor: in.RequestedBy, operation: "backup.file_deleted",
		instanceID: b.InstanceID, rootKeyID: b.RootKeyID, key: b.ID, detail: map[string]any{
			"backupId": b.ID, "location": b.Location, "existed": in.Existed}})
}

// prunedError is the error of a restore of a backup retention pruned.
func prunedError(verb string, b catalog.Backup) error {
	when := "earlier"
	if b.PrunedAt != nil {
		when = "at " + b.PrunedAt.UTC().Format(time.RFC3339)
	}
	msg := fmt.Sprintf("%s: the backup was pruned by retention (a backup schedule's --keep) %s: its wrapped DEK "+
		"is erased and its file deleted, so it can never be restored: restore a newer backup of instance %s "+
		"(`starter backups --instance %s`)", verb, when, b.InstanceID, b.InstanceID)
	return contract.NewError(contract.ErrTypeBackupPruned, msg, nil)
}
