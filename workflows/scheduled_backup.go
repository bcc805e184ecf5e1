package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// ScheduledBackup is what a backup schedule runs: it backs the instance up
// (a BackupInstance child, workflow id backup-INSTANCE, which takes the
// instance's lock itself) and then, with Keep set, prunes the instance's
// backups older than Keep, under the instance's lock. Pruning a backup
// crypto-erases it first: the catalog clears its wrapped DEK (state
// pruned, the row keeps its id and key lineage) so no copy of the file
// can be decrypted any more; then a node agent deletes its file from the
// backup store and the catalog records that. Each step is in the audit.
// A prune that stops half way is finished by the next run (a pruned
// backup whose file is not recorded deleted is listed again). The backup
// this run made is never pruned.
//
// An instance busy with another operation is skipped (the result says so)
// rather than failed: the schedule pauses on failure, and the next run
// catches up.
//
// Its errors: InvalidInput, the backup's errors (InstanceNotFound,
// InstanceNotActive, KeySuspended, NodeDeadline, ...), and the prune's
// (NodeDeadline when no node agent deletes the file).
func ScheduledBackup(ctx workflow.Context, in contract.ScheduledBackupInput) (res contract.ScheduledBackupResult, err error) {
	in = in.WithDefaults()
	res.InstanceID = in.InstanceID
	ctx, track, err := begin(ctx, contract.OperationScheduledBackup, in.InstanceID, in.Validate())
	if err != nil {
		return res, err
	}
	track.step("back up (child workflow backup-" + in.InstanceID + ")")
	var backup contract.BackupResult
	backupIn := contract.BackupInput{InstanceID: in.InstanceID, RequestedBy: in.RequestedBy, NodeDeadline: in.NodeDeadline}
	err = startChild(ctx, "backup-"+in.InstanceID, contract.WorkflowBackupInstance, backupIn).Get(ctx, &backup)
	if res.Skipped = skipReason(err, "backup-"+in.InstanceID); res.Skipped != "" {
		track.note(res.Skipped)
		return res, nil
	}
	if err != nil {
		return res, childError(err)
	}
	res.Backup = &backup
	if in.Keep > 0 {
		res.Pruned, res.Skipped, err = pruneBackups(ctx, in, backup.BackupID, track)
	}
	track.step("done")
	return res, err
}

// pruneBackups takes the instance's lock and prunes every backup of the
// instance created more than in.Keep ago, but keep. A busy instance
// returns the reason it skipped.
func pruneBackups(ctx workflow.Context, in contract.ScheduledBackupInput, keep string, track *tracker) (
	pruned []contract.PrunedBackup, skipped string, err error) {
	unlock, err := lockInstance(ctx, contract.OperationPrune, in.InstanceID, track)
	defer unlock()
	if reason := skipReason(err, ""); reason != "" {
		track.note("prune " + reason)
		return nil, "prune " + reason, nil
	}
	if err != nil {
		return nil, "", err
	}
	track.step("list expired backups")
	var expired contract.ListExpiredBackupsResult
	list := contract.ListExpiredBackupsInput{InstanceID: in.InstanceID,
		Before: workflow.Now(ctx).Add(-in.Keep.D()), Except: keep}
	if err = workflow.ExecuteActivity(ctx, contract.ActivityListExpiredBackups, list).Get(ctx, &expired); err != nil {
		return nil, "", err
	}
	if len(expired.Backups) == 0 {
		return nil, "", nil
	}
	inst, err := loadInstance(ctx, in.InstanceID, track)
	if err != nil {
		return nil, "", err
	}
	for _, b := range expired.Backups {
		p, err := pruneBackup(ctx, in, b, inst.Nodes[0], track)
		if err != nil {
			return pruned, "", err
		}
		pruned = append(pruned, p)
	}
	return pruned, "", nil
}

// pruneBackup crypto-erases backup b, has node delete its file and
// records the deletion.
func pruneBackup(ctx workflow.Context, in contract.ScheduledBackupInput, b contract.ExpiredBackup,
	node contract.NodePlacement, track *tracker) (contract.PrunedBackup, error) {
	track.step("prune backup " + b.BackupID + ": erase its key")
	var erased contract.EraseBackupKeyResult
	erase := contract.EraseBackupKeyInput{BackupID: b.BackupID, Keep: in.Keep, RequestedBy: in.RequestedBy}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityEraseBackupKey, erase).Get(ctx, &erased); err != nil {
		return contract.PrunedBackup{}, err
	}
	track.step("prune backup " + b.BackupID + ": delete its file (node agent of " + node.Host + ")")
	var deleted contract.DeleteBackupFileResult
	del := contract.DeleteBackupFileInput{BackupID: b.BackupID, Location: b.Location}
	nctx := withNode(ctx, node, in.NodeDeadline.D())
	if err := workflow.ExecuteActivity(nctx, contract.ActivityDeleteBackupFile, del).Get(ctx, &deleted); err != nil {
		return contract.PrunedBackup{}, singleNodeError(err, node, in.InstanceID, in.NodeDeadline.D(), pruneRetryHint)
	}
	rec := contract.RecordBackupFileDeletedInput{BackupID: b.BackupID, Existed: deleted.Existed, RequestedBy: in.RequestedBy}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityRecordBackupFileDeleted, rec).Get(ctx, nil); err != nil {
		return contract.PrunedBackup{}, err
	}
	return contract.PrunedBackup{BackupID: b.BackupID, CreatedAt: b.CreatedAt, PrunedAt: erased.PrunedAt}, nil
}

// pruneRetryHint says what to do after a prune's node step failed.
const pruneRetryHint = "trigger the backup schedule again (`starter schedule trigger ID`; " +
	"the next run finishes the prune)"
