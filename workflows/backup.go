package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// BackupInstance backs up an active instance: the primary node (the first
// placement) streams its database through the encryption library under a
// fresh backup DEK wrapped by the instance's root key, and the catalog
// records where the backup is, its size and checksum, and its key lineage.
// The backup is recorded (writing) before the node starts, so a failed
// backup leaves a failed record rather than nothing. If marking it failed
// fails too, the instance is marked needs_attention (it still serves, and
// every operation runs on it); the next BackupInstance of the instance is
// the re-run: it first marks that backup failed and clears the mark.
//
// Its errors carry the contract error types: InvalidInput, InstanceBusy,
// InstanceNotFound, InstanceNotActive, what the node reports (KeySuspended,
// KeyDestroyed, ...) and NodeDeadline naming the primary node and its host.
func BackupInstance(ctx workflow.Context, in contract.BackupInput) (res contract.BackupResult, err error) {
	in = in.WithDefaults()
	ctx, track, unlock, err := beginLocked(ctx, contract.OperationBackup, in.InstanceID, in.Validate())
	defer unlock()
	if err != nil {
		return res, err
	}
	inst, err := loadActive(ctx, in.InstanceID, "back up instance", track)
	if err != nil {
		return res, err
	}
	if err = finishBackupAttention(ctx, in, inst, track); err != nil {
		return res, err
	}
	primary := inst.Nodes[0]
	track.nodes(inst.Nodes[:1])
	id := newBackupID(ctx, in.InstanceID)
	undo := undoOf(contract.OperationBackup, in.InstanceID)
	undo.subject = id
	defer func() {
		if err != nil {
			track.step("mark backup failed")
			undo.run(ctx, err)
		}
	}()
	if err = createBackupRecord(ctx, in, inst, id, track, &undo); err != nil {
		return res, err
	}
	out, err := writeBackup(ctx, in, inst, primary, id, track)
	if err != nil {
		return res, err
	}
	if err = completeBackupRecord(ctx, completeBackupInput(in, id, inst.RootKeyID, out), track); err != nil {
		return res, err
	}
	track.step("done")
	return contract.BackupResult{BackupID: id, InstanceID: in.InstanceID, Location: out.Location, Bytes: out.Bytes,
		SHA256: out.SHA256, RootKeyID: inst.RootKeyID, KeyVersionID: out.KeyVersionID,
		Tables: out.Tables, Rows: out.Rows}, nil
}

// createBackupRecord pushes marking the backup failed (a backup never
// recorded is left alone), then records it as writing.
func createBackupRecord(ctx workflow.Context, in contract.BackupInput, inst contract.LoadInstanceResult, id string,
	track *tracker, undo *compensations) error {
	track.step("create backup record")
	create := contract.CreateBackupRecordInput{BackupID: id, InstanceID: in.InstanceID, RootKeyID: inst.RootKeyID,
		KeyVersionID: inst.KeyVersionID, RequestedBy: in.RequestedBy}
	undo.push(contract.ActivityFailBackupRecord, func(ctx workflow.Context, cause error) error {
		fail := contract.FailBackupRecordInput{BackupID: id, Reason: errorDetail(cause)}
		return workflow.ExecuteActivity(ctx, contract.ActivityFailBackupRecord, fail).Get(ctx, nil)
	})
	return workflow.ExecuteActivity(ctx, contract.ActivityCreateBackupRecord, create).Get(ctx, nil)
}

// writeBackup has the primary node write the backup.
func writeBackup(ctx workflow.Context, in contract.BackupInput, inst contract.LoadInstanceResult,
	primary contract.NodePlacement, id string, track *tracker) (contract.BackupDatabaseResult, error) {
	var out contract.BackupDatabaseResult
	track.step("write backup on the primary node")
	call := dataCall{instanceID: in.InstanceID, node: primary, activity: contract.ActivityBackupDatabase,
		deadline: in.NodeDeadline.D(), hint: backupRetryHint, input: contract.BackupDatabaseInput{
			InstanceID: in.InstanceID, NodeID: primary.NodeID, BackupID: id, DatabaseName: inst.DatabaseName,
			RootKeyID: inst.RootKeyID, AAD: contract.BackupAAD(id), KPInstanceID: inst.KPInstanceID}}
	err := runData(ctx, call, &out, track)
	return out, err
}

// completeBackupRecord records the backup's file and lineage and marks it
// complete.
func completeBackupRecord(ctx workflow.Context, done contract.CompleteBackupRecordInput, track *tracker) error {
	track.step("complete backup record")
	return workflow.ExecuteActivity(ctx, contract.ActivityCompleteBackupRecord, done).Get(ctx, nil)
}

// completeBackupInput records what the node wrote under the backup id the
// workflow chose and the instance's root key: the node wraps under the
// key it is given, so the lineage names it.
func completeBackupInput(in contract.BackupInput, id, rootKeyID string,
	out contract.BackupDatabaseResult) contract.CompleteBackupRecordInput {
	return contract.CompleteBackupRecordInput{BackupID: id, InstanceID: in.InstanceID,
		Location: out.Location, Bytes: out.Bytes, SHA256: out.SHA256, RootKeyID: rootKeyID,
		KeyVersionID: out.KeyVersionID, WrappedDEK: out.WrappedDEK, AAD: contract.BackupAAD(id),
		RequestedBy: in.RequestedBy}
}

// newBackupID is the new backup's id, contract.BackupID of now; a run
// started before ids had milliseconds keeps the id to the second it
// already recorded.
func newBackupID(ctx workflow.Context, instanceID string) string {
	now := workflow.Now(ctx)
	if workflow.GetVersion(ctx, versionBackupIDMillis, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return instanceID + "-" + now.UTC().Format("20060102T150405")
	}
	return contract.BackupID(instanceID, now)
}
