package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// changeRewrapBackupKeys is the workflow.GetVersion change id of the
// backup rewrap step of RotateRootKey. Rotations started before the step
// existed replay without it.
const changeRewrapBackupKeys = "rewrap-backup-keys"

// rewrapBackups rewraps, on the primary node, the DEK of every complete
// backup of the instance not yet under version, and records each backup's
// new lineage.
func rewrapBackups(ctx workflow.Context, in contract.RotateInput, inst contract.LoadInstanceResult,
	version string, track *tracker) error {
	if workflow.GetVersion(ctx, changeRewrapBackupKeys, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	track.step("list backups to rewrap")
	var list contract.ListBackupKeysResult
	listIn := contract.ListBackupKeysInput{InstanceID: in.InstanceID}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityListBackupKeys, listIn).Get(ctx, &list); err != nil {
		return err
	}
	todo := backupsToRewrap(list.Backups, inst.RootKeyID, version)
	for i, b := range todo {
		track.step(fmt.Sprintf("rewrap backup keys (%d of %d: %s)", i+1, len(todo), b.BackupID))
		if err := rewrapBackup(ctx, in, inst, b, version); err != nil {
			return err
		}
	}
	return nil
}

// rewrapBackup rewraps one backup's DEK (in the instance's Key Protect
// instance) on the primary node and records
// the new lineage.
func rewrapBackup(ctx workflow.Context, in contract.RotateInput, inst contract.LoadInstanceResult,
	b contract.BackupRecord, version string) error {
	var out contract.RewrapBackupKeyResult
	primary := inst.Nodes[0]
	rewrap := contract.RewrapBackupKeyInput{BackupID: b.BackupID, RootKeyID: b.RootKeyID,
		KeyVersionID: b.KeyVersionID, WrappedDEK: b.WrappedDEK, AAD: b.AAD, TargetVersionID: version,
		KPInstanceID: inst.KPInstanceID}
	err := workflow.ExecuteActivity(withNode(ctx, primary, in.NodeDeadline.D()), contract.ActivityRewrapBackupKey, rewrap).
		Get(ctx, &out)
	if err != nil {
		return singleNodeError(err, primary, in.InstanceID, in.NodeDeadline.D(), rewrapBackupHint)
	}
	if err := checkBackupRewrap(b, out, version); err != nil {
		return err
	}
	update := contract.UpdateBackupKeyInput{BackupID: b.BackupID, KeyVersionID: out.KeyVersionID,
		WrappedDEK: out.WrappedDEK, RequestedBy: in.RequestedBy}
	return workflow.ExecuteActivity(ctx, contract.ActivityUpdateBackupKey, update).Get(ctx, nil)
}
