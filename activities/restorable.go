package activities

import (
	"context"
	"fmt"
	"net/http"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// CheckBackupRestorable checks, before a restore creates anything, that
// the backup is complete and that its root key can still unwrap its DEK,
// reading the key with the operator identity. A backup that is not
// complete fails BackupNotFound. A destroyed (or purged) key fails the
// non-retryable BackupUnrecoverable: no retry can help. A disabled key
// fails KeySuspended, saying to re-enable it. An expired (Deactivated) key
// still unwraps, so its backups restore.
func (a *Activities) CheckBackupRestorable(ctx context.Context, in contract.CheckBackupRestorableInput) (
	contract.CheckBackupRestorableResult, error) {
	var res contract.CheckBackupRestorableResult
	verb := "restore backup " + in.BackupID
	b, err := a.catalog.GetBackup(ctx, in.BackupID)
	if err != nil {
		return res, backupError(err, verb)
	}
	if err := checkBackupState(b, verb); err != nil {
		return res, err
	}
	src, err := a.catalog.GetInstance(ctx, b.InstanceID)
	if err != nil {
		return res, a.catalogError(err, verb+": load its instance "+b.InstanceID)
	}
	if err := a.checkBackupKey(ctx, b, src.KPInstanceID, verb); err != nil {
		return res, err
	}
	return contract.CheckBackupRestorableResult{Backup: backupRecord(b), KPInstanceID: src.KPInstanceID}, nil
}

// checkBackupState fails unless the backup is complete.
func checkBackupState(b catalog.Backup, verb string) error {
	switch b.State {
	case catalog.BackupComplete:
		return nil
	case catalog.BackupUnrecoverable:
		return unrecoverable(verb, b.RootKeyID)
	case catalog.BackupPruned:
		return prunedError(verb, b)
	}
	msg := fmt.Sprintf("%s: the backup is %s, not complete: only a complete backup can be restored: "+
		"choose another backup (`starter backups %s`)", verb, b.State, b.InstanceID)
	return contract.NewError(contract.ErrTypeBackupNotFound, msg, nil)
}

// checkBackupKey reads the backup's root key and fails unless it can
// unwrap, in Key Protect instance kpInstanceID: destroyed or purged is permanent, disabled needs the user.
func (a *Activities) checkBackupKey(ctx context.Context, b catalog.Backup, kpInstanceID, verb string) error {
	keys, err := a.keysFor(kpInstanceID, verb)
	if err != nil {
		return err
	}
	key, err := keys.GetKeyMetadata(ctx, b.RootKeyID)
	if f, ok := kpFailureOf(err); ok && (f.status == http.StatusNotFound || f.status == http.StatusGone) {
		return unrecoverable(verb, b.RootKeyID)
	}
	if err != nil {
		return classifyKP(err, a.operatorOp(kpInstanceID, verb+": read its root key", b.RootKeyID))
	}
	switch key.State {
	case int(kp.Destroyed):
		return unrecoverable(verb, b.RootKeyID)
	case int(kp.Suspended):
		msg := fmt.Sprintf("%s: root key %s is disabled: re-enable root key %s "+
			"(`ibmcloud kp key enable %s`) and retry", verb, b.RootKeyID, b.RootKeyID, b.RootKeyID)
		return contract.NewError(contract.ErrTypeKeySuspended, msg, nil)
	}
	return nil
}

// unrecoverable is the error of a backup whose root key is destroyed.
func unrecoverable(verb, rootKeyID string) error {
	msg := fmt.Sprintf("%s: root key %s is destroyed; this backup cannot be restored "+
		"(a key deleted less than 30 days ago can be restored with `ibmcloud kp key restore %s`)",
		verb, rootKeyID, rootKeyID)
	return contract.NewError(contract.ErrTypeBackupUnrecoverable, msg, nil)
}
