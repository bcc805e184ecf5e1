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

// compensations is the saga of a workflow: each step that succeeded pushes
// its compensation; on failure they run in reverse order.
type compensations struct {
	steps []compensation
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
// error that failed it, not the compensation's.
func (c *compensations) run(ctx workflow.Context, cause error) {
	ctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	log := workflow.GetLogger(ctx)
	for i := len(c.steps) - 1; i >= 0; i-- {
		s := c.steps[i]
		if err := s.run(ctx, cause); err != nil {
			log.Error("compensate step failed; undo it by hand", "step", s.name, "error", err)
		}
	}
}

// markFailed is the compensation of CreateInstanceRecord. It marks the record
// failed rather than deleting it: the record's key-status history stays for
// audit, and CreateInstanceRecord reuses a failed record's name.
func markFailed(instanceID string) func(ctx workflow.Context, cause error) error {
	return func(ctx workflow.Context, cause error) error {
		in := contract.MarkInstanceFailedInput{InstanceID: instanceID, Reason: errorDetail(cause)}
		return workflow.ExecuteActivity(ctx, contract.ActivityMarkInstanceFailed, in).Get(ctx, nil)
	}
}
