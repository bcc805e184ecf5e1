package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// CheckShredGuards looks, before a crypto-shred destroys anything, at what
// else depends on the root key, and refuses what the input did not allow:
// other live instances on the key fail KeyInUse unless KeepRootKey;
// complete backups under the key fail BackupsRetained unless
// IncludeBackups acknowledges they become unrecoverable, or KeepRootKey
// keeps them restorable. It changes nothing.
func (a *Activities) CheckShredGuards(ctx context.Context, in contract.CheckShredGuardsInput) (contract.CheckShredGuardsResult, error) {
	var res contract.CheckShredGuardsResult
	verb := fmt.Sprintf("shred instance %q", in.InstanceID)
	others, err := a.otherLiveInstances(ctx, in)
	if err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	if len(others) > 0 && !in.KeepRootKey {
		msg := fmt.Sprintf("%s: root key %s is also used by live instances %s: shred them first, or shred "+
			"with --keep-root-key to destroy only the node keys of %q and keep the root key",
			verb, in.RootKeyID, strings.Join(others, ", "), in.InstanceID)
		return res, contract.NewError(contract.ErrTypeKeyInUse, msg, nil)
	}
	backups, err := a.catalog.BackupsByRootKey(ctx, in.RootKeyID)
	if err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	retained, proof := retainedBackups(backups)
	if len(retained) > 0 && !in.IncludeBackups && !in.KeepRootKey {
		msg := fmt.Sprintf("%s: deleting root key %s makes backups %s unrecoverable: shred with "+
			"--include-backups to acknowledge that they become unrecoverable, or with --keep-root-key to "+
			"keep the root key (the backups then stay restorable)", verb, in.RootKeyID, strings.Join(retained, ", "))
		return res, contract.NewError(contract.ErrTypeBackupsRetained, msg, nil)
	}
	return contract.CheckShredGuardsResult{OtherInstances: others, RetainedBackups: retained, ProofBackup: proof}, nil
}

// otherLiveInstances lists the instances on the key, other than the one
// being shredded, that are neither failed nor shredded.
func (a *Activities) otherLiveInstances(ctx context.Context, in contract.CheckShredGuardsInput) ([]string, error) {
	all, err := a.catalog.InstancesByRootKey(ctx, in.RootKeyID)
	if err != nil {
		return nil, err
	}
	var others []string
	for _, inst := range all {
		if inst.ID != in.InstanceID && inst.State != catalog.InstanceFailed && inst.State != catalog.InstanceShredded {
			others = append(others, inst.ID)
		}
	}
	return others, nil
}

// retainedBackups returns the ids of the complete backups, and a backup
// whose wrapped DEK can prove the key's deletion: the first complete one,
// else the first one a shred already made unrecoverable (for a re-run).
func retainedBackups(backups []catalog.Backup) ([]string, contract.BackupRecord) {
	var ids []string
	var proof, fallback contract.BackupRecord
	for _, b := range backups {
		switch b.State {
		case catalog.BackupComplete:
			ids = append(ids, b.ID)
			if proof.BackupID == "" {
				proof = backupRecord(b)
			}
		case catalog.BackupUnrecoverable:
			if fallback.BackupID == "" {
				fallback = backupRecord(b)
			}
		}
	}
	if proof.BackupID == "" {
		proof = fallback
	}
	return ids, proof
}
