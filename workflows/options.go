package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// Timeouts of every activity, in one place.
const (
	// controlStartToClose bounds one attempt of a control-plane activity: a
	// few calls to IAM, Key Protect or the catalog.
	controlStartToClose = 30 * time.Second
	// controlScheduleToClose bounds all attempts, so an outage of IAM or Key
	// Protect fails the workflow with the last error instead of hanging.
	controlScheduleToClose = 30 * time.Minute
	// nodeStartToClose bounds one attempt of a node activity: one wrap or
	// rewrap call and one key-slot write.
	nodeStartToClose = time.Minute
	// nodeRetryWindow is how long a node activity may keep retrying after
	// its deadline to start has passed.
	nodeRetryWindow = 30 * time.Minute
)

// retryPolicy retries transient failures with backoff and never retries the
// typed permanent failures of package contract.
func retryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: contract.NonRetryableErrorTypes(),
	}
}

// withControl returns ctx with the options of control-plane activities.
func withControl(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              contract.ControlTaskQueue,
		StartToCloseTimeout:    controlStartToClose,
		ScheduleToCloseTimeout: controlScheduleToClose,
		RetryPolicy:            retryPolicy(),
	})
}

// withNode returns ctx with the options of activities for node n. A task
// waits on the host's queue until deadline (ScheduleToStartTimeout), so a
// node whose agent is down is visible as a pending activity until then.
// WaitForCancellation lets a canceled running attempt finish or clean up
// before the workflow compensates.
func withNode(ctx workflow.Context, n contract.NodePlacement, deadline time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              nodeQueue(n),
		ScheduleToStartTimeout: deadline,
		StartToCloseTimeout:    nodeStartToClose,
		ScheduleToCloseTimeout: deadline + nodeRetryWindow,
		WaitForCancellation:    true,
		RetryPolicy:            retryPolicy(),
	})
}

// nodeQueue is the task queue of n, derived from its host when the catalog
// did not record one.
func nodeQueue(n contract.NodePlacement) string {
	if n.TaskQueue != "" {
		return n.TaskQueue
	}
	return contract.NodeTaskQueue(n.Host)
}
