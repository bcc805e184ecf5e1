package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// compensation undoes one step that succeeded. cause is the error that
// failed the workflow.
type compensation struct {
	name string
	run  func(ctx workflow.Context, cause error) error
}

// compensations is the saga of a workflow: each step pushes its
// compensation before it runs (a step that failed after doing its work,
// its answer lost, is undone too), so every compensation tolerates
// "nothing to undo"; on failure they run in reverse order.
type compensations struct {
	steps []compensation
	// instanceID, operation and subject (default: the instance) name the
	// attention mark a failed compensation leaves; no instance, no mark.
	instanceID, operation, subject string
}

// undoOf returns the compensations of operation on instanceID.
func undoOf(operation, instanceID string) compensations {
	return compensations{instanceID: instanceID, operation: operation, subject: instanceID}
}

func (c *compensations) push(name string, run func(ctx workflow.Context, cause error) error) {
	c.steps = append(c.steps, compensation{name: name, run: run})
}

// pushActivity pushes a control-plane activity as a compensation.
func (c *compensations) pushActivity(activity string, input any) {
	c.push(activity, func(ctx workflow.Context, _ error) error {
		return workflow.ExecuteActivity(ctx, activity, input).Get(ctx, nil)
	})
}

// run runs every compensation in reverse order on a context disconnected
// from ctx, so they also run when the workflow was canceled. A compensation
// that fails is logged and the next one still runs: the workflow returns the
// error that failed it, not the compensation's. The first that failed
// marks the instance needs_attention (catalog and audit), which a re-run
// of the operation clears.
func (c *compensations) run(ctx workflow.Context, cause error) {
	ctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	log := workflow.GetLogger(ctx)
	var failed *contract.Attention
	for i := len(c.steps) - 1; i >= 0; i-- {
		s := c.steps[i]
		if err := s.run(ctx, cause); err != nil {
			log.Error("compensate step failed; the instance is marked needs_attention", "step", s.name, "error", err)
			if failed == nil {
				failed = &contract.Attention{Operation: c.operation, Step: s.name, Subject: c.subject,
					Error: errorDetail(err), WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID}
			}
		}
	}
	if failed == nil || c.instanceID == "" ||
		workflow.GetVersion(ctx, versionNeedsAttention, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	mark := contract.MarkNeedsAttentionInput{InstanceID: c.instanceID, Attention: *failed}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityMarkNeedsAttention, mark).Get(ctx, nil); err != nil {
		log.Error("mark instance needs_attention failed; undo the step by hand", "step", failed.Step, "error", err)
	}
}

// markFailed is the compensation of CreateInstanceRecord. It marks the record
// failed rather than deleting it: the record's key-status history stays for
// audit, and CreateInstanceRecord reuses a failed record's name. With
// workflowID it marks only a record that run created (pushed before the
// record is made, it must leave another run's instance alone).
func markFailed(instanceID, workflowID string) func(ctx workflow.Context, cause error) error {
	return func(ctx workflow.Context, cause error) error {
		in := contract.MarkInstanceFailedInput{InstanceID: instanceID, Reason: errorDetail(cause), WorkflowID: workflowID}
		return workflow.ExecuteActivity(ctx, contract.ActivityMarkInstanceFailed, in).Get(ctx, nil)
	}
}
