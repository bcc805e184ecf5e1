package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// RestoreFromBackup restores a backup into a new instance. It first checks,
// creating nothing, that the backup is complete, that its root key still
// exists and is enabled, and that the service may use Key Protect. Then it
// provisions the new instance under the root key the user named (a child
// ProvisionEncryptedInstance, which completes when every new node serves,
// and leaves the instance pending), and the new primary unwraps the
// backup's DEK, verifies, decrypts and loads the data; its standbys catch
// up by replication, and the instance is marked active only once every
// node serves the loaded data. If the restore fails after the provision,
// the new instance is undone (servers stopped, fscrypt keys removed, files
// and key slots dropped, registration removed, record failed) so no
// half-made instance stays. A compensation that fails marks the new
// instance needs_attention; restoring again into the same name is the
// re-run (its provision finishes the rollback first). It locks the new
// instance and the backup's instance for its whole run.
//
// Its errors carry the contract error types: InvalidInput, InstanceBusy,
// KPInstanceNotFound, BackupNotFound,
// BackupUnrecoverable (the backup's key is destroyed), KeySuspended (it is
// disabled), ServiceNotAuthorized, the provision's errors, and the
// restore's: BackupCorrupt, KeySlotInvalid, NodeDeadline, ...
func RestoreFromBackup(ctx workflow.Context, in contract.RestoreInput) (res contract.RestoreResult, err error) {
	in = in.WithDefaults()
	ctx, track, unlock, err := beginLocked(ctx, contract.OperationRestore, in.InstanceID, in.Validate())
	defer unlock()
	if err != nil {
		return res, err
	}
	src, err := checkRestorable(ctx, in, track)
	if err != nil {
		return res, err
	}
	// The backup's instance too: a crypto-shred of it would destroy the
	// key the backup's DEK is wrapped under while the restore reads it.
	unlockSource, err := lockInstance(ctx, contract.OperationRestore, src.Backup.InstanceID, false, track)
	defer unlockSource()
	if err != nil {
		return res, err
	}
	prov, err := provisionNew(ctx, in, newKPInstance(in, src), track)
	if err != nil {
		return res, err
	}
	undo := undoOf(contract.OperationRestore, in.InstanceID)
	defer func() {
		if err != nil {
			track.step("compensate")
			undo.run(ctx, err)
		}
	}()
	loaded, err := restoreInto(ctx, in, src, prov, track, &undo)
	if err != nil {
		return res, err
	}
	track.step("done")
	return contract.RestoreResult{InstanceID: in.InstanceID, BackupID: in.BackupID, Provision: prov,
		Bytes: loaded.Bytes, Tables: loaded.Tables, Rows: loaded.Rows}, nil
}

// checkRestorable checks the backup, its root key and the service
// authorization. Nothing is created unless CreateAuthorization asks to
// create the missing policy.
func checkRestorable(ctx workflow.Context, in contract.RestoreInput, track *tracker) (
	contract.CheckBackupRestorableResult, error) {
	var src contract.CheckBackupRestorableResult
	if err := trackRootKey(ctx, track, in.RootKeyID); err != nil {
		return src, err
	}
	track.step("check backup " + in.BackupID)
	check := contract.CheckBackupRestorableInput{BackupID: in.BackupID}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityCheckBackupRestorable, check).Get(ctx, &src); err != nil {
		return src, err
	}
	if err := checkKPInstance(ctx, newKPInstance(in, src), track); err != nil {
		return src, err
	}
	track.step("check service authorization")
	auth := contract.CheckServiceAuthorizationInput{KPInstanceID: newKPInstance(in, src), Create: in.CreateAuthorization}
	err := workflow.ExecuteActivity(ctx, contract.ActivityCheckServiceAuthorization, auth).Get(ctx, nil)
	return src, err
}

// newKPInstance is the Key Protect instance of the new instance's root
// key: the one the input names, else the backup's.
func newKPInstance(in contract.RestoreInput, src contract.CheckBackupRestorableResult) string {
	if in.KPInstanceID != "" {
		return in.KPInstanceID
	}
	return src.KPInstanceID
}

// provisionNew provisions the new instance as a child workflow, which
// undoes its own partial work when it fails.
func provisionNew(ctx workflow.Context, in contract.RestoreInput, kpInstanceID string, track *tracker) (
	contract.ProvisionResult, error) {
	var prov contract.ProvisionResult
	id := "provision-" + in.InstanceID
	track.step("provision new instance (child workflow " + id + ")")
	child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        id,
		TaskQueue:         workflow.GetInfo(ctx).TaskQueueName,
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
	})
	err := workflow.ExecuteChildWorkflow(child, contract.WorkflowProvisionEncryptedInstance,
		in.Provision(kpInstanceID)).Get(ctx, &prov)
	return prov, childError(err)
}

// restoreInto pushes the undoing of the new instance, then has its first
// node load the backup of src, unwrapping its DEK in the backup's Key
// Protect instance.
func restoreInto(ctx workflow.Context, in contract.RestoreInput, src contract.CheckBackupRestorableResult,
	prov contract.ProvisionResult, track *tracker, undo *compensations) (contract.RestoreDatabaseResult, error) {
	var out contract.RestoreDatabaseResult
	b := src.Backup
	undo.push(contract.ActivityMarkInstanceFailed, markFailed(in.InstanceID, ""))
	undo.pushActivity(contract.ActivityDeregisterInstance, contract.DeregisterInstanceInput{RootKeyID: prov.RootKeyID,
		InstanceCRN: prov.InstanceCRN, KPInstanceID: newKPInstance(in, src)})
	inst, err := loadInstance(ctx, in.InstanceID, track)
	if err != nil {
		return out, err
	}
	undoNewInstance(in, inst, undo)
	if err := checkPlacement(in.InstanceID, inst.Nodes); err != nil {
		return out, err
	}
	track.nodes(inst.Nodes)
	for _, r := range prov.Nodes {
		track.reported(r)
	}
	track.step("restore backup " + b.BackupID + " on node " + inst.Nodes[0].NodeID)
	if err = runData(ctx, restoreCall(in, b, src.KPInstanceID, inst), &out, track); err != nil {
		return out, err
	}
	return out, activateRestored(ctx, in, inst, prov, track)
}

// activateRestored checks that every node of the new instance serves the
// loaded data — the primary up, the standbys streaming it — and only then
// marks the instance active.
func activateRestored(ctx workflow.Context, in contract.RestoreInput, inst contract.LoadInstanceResult,
	prov contract.ProvisionResult, track *tracker) error {
	track.step("check every node serves the restored data")
	calls := make([]nodeCall, len(inst.Nodes))
	for i, n := range inst.Nodes {
		// ReportStatus may bring a node up (its key, its server): a server step.
		calls[i] = nodeCall{node: n, activity: contract.ActivityReportStatus, server: true,
			input: contract.ReportStatusInput{InstanceID: in.InstanceID, NodeID: n.NodeID}}
	}
	run := runOnNodes(ctx, calls, in.NodeDeadline.D(), track)
	if err := nodeStepError(run, in.InstanceID, in.NodeDeadline.D(), restoreRetryHint); err != nil {
		return err
	}
	if err := checkReports(run, in.InstanceID, prov.RootKeyID, prov.KeyVersionID, restoreRetryHint); err != nil {
		return err
	}
	track.step("mark instance active")
	active := contract.MarkInstanceActiveInput{InstanceID: in.InstanceID, KeyVersionID: prov.KeyVersionID}
	return workflow.ExecuteActivity(ctx, contract.ActivityMarkInstanceActive, active).Get(ctx, nil)
}

// undoNewInstance pushes the removal of the new instance's nodes: servers
// stopped, fscrypt keys removed, files and key slots dropped.
func undoNewInstance(in contract.RestoreInput, inst contract.LoadInstanceResult, undo *compensations) {
	undo.push(contract.ActivityDropKeySlot, func(ctx workflow.Context, _ error) error {
		return dropKeySlots(ctx, in.InstanceID, inst.Nodes, in.NodeDeadline.D())
	})
}

// restoreCall loads backup b, whose root key is in Key Protect instance
// backupKP, into the new instance's database on its first node.
func restoreCall(in contract.RestoreInput, b contract.BackupRecord, backupKP string,
	inst contract.LoadInstanceResult) dataCall {
	n := inst.Nodes[0]
	return dataCall{instanceID: in.InstanceID, node: n, activity: contract.ActivityRestoreDatabase,
		deadline: in.NodeDeadline.D(), hint: restoreRetryHint, input: contract.RestoreDatabaseInput{
			InstanceID: in.InstanceID, NodeID: n.NodeID, DatabaseName: inst.DatabaseName,
			BackupID: b.BackupID, Location: b.Location, SHA256: b.SHA256, RootKeyID: b.RootKeyID,
			KeyVersionID: b.KeyVersionID, WrappedDEK: b.WrappedDEK, AAD: b.AAD, KPInstanceID: backupKP}}
}
