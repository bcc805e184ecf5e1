package workflows

import (
	"errors"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// The child workflows of scheduled work (FleetRotate, ScheduledBackup).
// A scheduled run that finds its instance busy skips it rather than fail
// the schedule (which pauses on failure): the next run catches up.

// startChild starts workflow name as a child under id, the id the starter
// uses for the same operation ("rotate-orders"), so an operator's run and
// a scheduled one never both run: the second finds the first and skips.
func startChild(ctx workflow.Context, id, name string, in any) workflow.ChildWorkflowFuture {
	child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        id,
		TaskQueue:         workflow.GetInfo(ctx).TaskQueueName,
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
	})
	return workflow.ExecuteChildWorkflow(child, name, in)
}

// skipReason says why a child's failure err means "busy, skipped" rather
// than a failure: another operation holds the instance's lock, or a
// workflow of the same id (the operator's) already runs. "" otherwise.
func skipReason(err error, id string) string {
	var started *temporal.ChildWorkflowExecutionAlreadyStartedError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &started):
		return "skipped: workflow " + id + " is already running; this run leaves the instance to it"
	case contract.ErrorType(err) == contract.ErrTypeInstanceBusy:
		return "skipped: " + errorDetail(err) + "; the next run catches up"
	}
	return ""
}
