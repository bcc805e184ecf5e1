package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// What a re-run of each operation does with a needs_attention mark of an
// earlier run (a compensation that failed):
//   - provision or restore (which provisions): finishes the rollback of
//     the earlier provision or restore of that instance name — drops every
//     recorded node's key slot, deregisters the instance CRN, marks the
//     record failed — clears the mark, then provisions anew;
//   - backup: marks the earlier backup failed and clears the mark;
//   - crypto-shred: destroys the instance whatever the mark says; a
//     shredded instance shows no mark.
// Rotate, suspend and resume refuse an instance whose provision or restore
// left a mark (it has no working nodes), and run on one whose backup did.

// rollbackLeft reports whether inst is an earlier provision or restore
// whose rollback a failed compensation left unfinished.
func rollbackLeft(inst contract.LoadInstanceResult) bool {
	a := inst.Attention
	return inst.State == contract.InstanceNeedsAttention && a != nil &&
		(a.Operation == contract.OperationProvision || a.Operation == contract.OperationRestore)
}

// servesDespite reports whether inst, marked needs_attention, still
// serves: only a backup record was left unfinished.
func servesDespite(inst contract.LoadInstanceResult) bool {
	return inst.State == contract.InstanceNeedsAttention && inst.Attention != nil &&
		inst.Attention.Operation == contract.OperationBackup
}

// attentionError refuses an operation on an instance whose provision or
// restore left its rollback unfinished, saying how to finish it.
func attentionError(verb, instanceID string, a contract.Attention) error {
	msg := fmt.Sprintf("%s %q: the instance needs attention: step %s of its %s (workflow %s) failed: %s: "+
		"provision it again (`starter provision --instance %s ...`), which finishes that rollback first, "+
		"or crypto-shred it", verb, instanceID, a.Step, a.Operation, a.WorkflowID, a.Error, instanceID)
	return contract.NewError(contract.ErrTypeInstanceNotActive, msg, nil)
}

// finishRollback finishes what a failed compensation of an earlier
// provision or restore of the instance name left, before anything new is
// made: nodes dropped (servers stopped, fscrypt keys removed, slots and
// files gone), registration removed, record failed, mark cleared. Every
// step tolerates nothing to undo. It fails, leaving the mark, when a step
// fails again.
func finishRollback(ctx workflow.Context, in contract.ProvisionInput, track *tracker) error {
	if workflow.GetVersion(ctx, versionNeedsAttention, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	inst, err := loadInstance(ctx, in.InstanceID, track)
	if contract.ErrorType(err) == contract.ErrTypeInstanceNotFound {
		return nil
	}
	if err != nil || !rollbackLeft(inst) {
		return err
	}
	a := *inst.Attention
	track.step(fmt.Sprintf("finish the rollback of %s %s (its step %s failed)", a.Operation, a.WorkflowID, a.Step))
	if len(inst.Nodes) > 0 {
		if err := dropKeySlots(ctx, in.InstanceID, inst.Nodes, in.NodeDeadline.D()); err != nil {
			return err
		}
	}
	dereg := contract.DeregisterInstanceInput{RootKeyID: inst.RootKeyID, InstanceCRN: inst.InstanceCRN,
		KPInstanceID: inst.KPInstanceID}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityDeregisterInstance, dereg).Get(ctx, nil); err != nil {
		return err
	}
	reason := errors.New("rolled back: " + a.Operation + " step " + a.Step + " failed: " + a.Error)
	if err := markFailed(in.InstanceID, "")(ctx, reason); err != nil {
		return err
	}
	return clearAttention(ctx, in.InstanceID)
}

// finishBackupAttention marks failed the backup whose own compensation
// failed in an earlier BackupInstance, and clears the mark.
func finishBackupAttention(ctx workflow.Context, in contract.BackupInput, inst contract.LoadInstanceResult,
	track *tracker) error {
	if !servesDespite(inst) {
		return nil
	}
	a := *inst.Attention
	track.step("mark backup " + a.Subject + " of the earlier backup failed")
	fail := contract.FailBackupRecordInput{BackupID: a.Subject, Reason: "backup failed: " + a.Error}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityFailBackupRecord, fail).Get(ctx, nil); err != nil {
		return err
	}
	return clearAttention(ctx, in.InstanceID)
}

func clearAttention(ctx workflow.Context, instanceID string) error {
	clear := contract.ClearNeedsAttentionInput{InstanceID: instanceID}
	return workflow.ExecuteActivity(ctx, contract.ActivityClearNeedsAttention, clear).Get(ctx, nil)
}
