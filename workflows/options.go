package workflows

import (
	"math"
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
	// serverStartToClose bounds one attempt of making or starting a
	// node's PostgreSQL server: initdb or pg_basebackup on encrypted
	// storage, then a start.
	serverStartToClose = 10 * time.Minute
	// nodeRetryWindow is how long a node activity may keep retrying after
	// its deadline to start has passed.
	nodeRetryWindow = 30 * time.Minute
	// dataStartToClose bounds one attempt of a backup or restore on a
	// node: it streams a whole database.
	dataStartToClose = 6 * time.Hour
	// nodeHeartbeat is how long a node activity may go without a heartbeat
	// before Temporal counts its attempt as lost (its agent killed or its
	// host gone) and retries it. The workers heartbeat every attempt every
	// couple of seconds (internal/supervise), whatever step it is in, so a
	// dead agent costs this much and no more; a live one never trips it.
	nodeHeartbeat = 15 * time.Second
	// controlHeartbeat is the same for control-plane activities: a killed
	// control worker's attempt is retried after this, not after its
	// StartToClose.
	controlHeartbeat = 10 * time.Second
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
		HeartbeatTimeout:       controlHeartbeat,
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
		HeartbeatTimeout:       nodeHeartbeat,
		ScheduleToCloseTimeout: deadline + nodeRetryWindow,
		WaitForCancellation:    true,
		RetryPolicy:            retryPolicy(),
	})
}

// withServerNode returns ctx with the options of the activities that make
// or start node n's server: like withNode, with longer attempts.
func withServerNode(ctx workflow.Context, n contract.NodePlacement, deadline time.Duration) workflow.Context {
	opts := workflow.GetActivityOptions(withNode(ctx, n, deadline))
	opts.StartToCloseTimeout = serverStartToClose
	return workflow.WithActivityOptions(ctx, opts)
}

// withDataNode returns ctx with the options of a backup or restore on node
// n: like withNode, but an attempt may last hours as long as it heartbeats.
func withDataNode(ctx workflow.Context, n contract.NodePlacement, deadline time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              nodeQueue(n),
		ScheduleToStartTimeout: deadline,
		StartToCloseTimeout:    dataStartToClose,
		HeartbeatTimeout:       nodeHeartbeat,
		ScheduleToCloseTimeout: deadline + 2*dataStartToClose,
		WaitForCancellation:    true,
		RetryPolicy:            retryPolicy(),
	})
}

// withKeyDeletion returns ctx with the options of the root key deletion:
// a dual-auth key's deletion fails, retryably, until a second user
// authorizes it, so its retries last up to wait. The refusal itself says
// how long to wait before asking again (contract.DualAuthRetryDelay: a
// minute, doubling to 15); any other failure, a killed worker's attempt
// included, is retried at the usual pace.
func withKeyDeletion(ctx workflow.Context, wait time.Duration) workflow.Context {
	policy := retryPolicy()
	// No count of attempts ends the wait first (0 means as much on a
	// server, but the SDK's test environment caps 0 at 10 attempts).
	policy.MaximumAttempts = math.MaxInt32
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              contract.ControlTaskQueue,
		StartToCloseTimeout:    controlStartToClose,
		HeartbeatTimeout:       controlHeartbeat,
		ScheduleToCloseTimeout: max(wait, controlScheduleToClose),
		RetryPolicy:            policy,
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
