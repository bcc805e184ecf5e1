package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// Change ids of workflow.GetVersion: runs started before a change replay
// as they ran.
const (
	// versionInstanceLock: workflows lock their instance.
	versionInstanceLock = "instance-lock"
	// versionCheckKPInstance: provision and restore check the Key Protect
	// instance first.
	versionCheckKPInstance = "check-kp-instance"
	// versionNeedsAttention: a failed compensation marks the instance, and
	// a re-run finishes what it left.
	versionNeedsAttention = "needs-attention"
	// versionBackupIDMillis: a backup's id has the millisecond, not only
	// the second, of its start.
	versionBackupIDMillis = "backup-id-millis"
)

// beginLocked is begin for a workflow that works on one instance: after
// the input check it takes the instance's lock (one operation per
// instance at a time; a running holder fails InstanceBusy naming it) and
// returns its release, which the workflow defers first so that it runs
// last, after any compensation, and also when the workflow fails or is
// canceled. A workflow terminated before it releases leaves a lock that
// the next operation takes over (AcquireInstanceOperation asks Temporal).
func beginLocked(ctx workflow.Context, operation, instanceID string, invalid error) (
	workflow.Context, *tracker, func(), error) {
	ctx, track, err := begin(ctx, operation, instanceID, invalid)
	if err != nil {
		return ctx, track, func() {}, err
	}
	unlock, err := lockInstance(ctx, operation, instanceID, track)
	return ctx, track, unlock, err
}

// lockInstance takes instanceID's lock for this workflow run and returns
// its release. A child workflow whose parent holds the lock (the
// provision of a restore) runs under it and takes none; the children of a
// workflow that holds no instance lock (a fleet rotation, a
// reconciliation) take their own.
func lockInstance(ctx workflow.Context, operation, instanceID string, track *tracker) (func(), error) {
	info := workflow.GetInfo(ctx)
	// Runs started before children locked took no lock as children; the
	// version marker is recorded only where the lock is taken.
	if workflow.GetVersion(ctx, versionInstanceLock, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return func() {}, nil
	}
	run := info.WorkflowExecution
	track.step("lock instance " + instanceID)
	var res contract.AcquireInstanceOperationResult
	acquire := contract.AcquireInstanceOperationInput{InstanceID: instanceID, Operation: operation,
		WorkflowID: run.ID, RunID: run.RunID}
	if p := info.ParentWorkflowExecution; p != nil {
		acquire.ParentWorkflowID, acquire.ParentRunID = p.ID, p.RunID
	}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityAcquireInstanceOperation, acquire).Get(ctx, &res); err != nil {
		return func() {}, err
	}
	if res.UnderParent {
		return func() {}, nil
	}
	if res.TookOverFrom != "" {
		track.note("took over the lock of instance " + instanceID + " from workflow run " + res.TookOverFrom +
			", which no longer runs")
	}
	return func() {
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		release := contract.ReleaseInstanceOperationInput{InstanceID: instanceID, WorkflowID: run.ID, RunID: run.RunID}
		if err := workflow.ExecuteActivity(dctx, contract.ActivityReleaseInstanceOperation, release).Get(dctx, nil); err != nil {
			// The next operation takes the lock over once this run is closed.
			workflow.GetLogger(ctx).Warn("release instance lock failed", "instance", instanceID, "error", err)
		}
	}, nil
}
