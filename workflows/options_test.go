package workflows

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

const (
	enumScheduleToClose = enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
	enumStartToClose    = enumspb.TIMEOUT_TYPE_START_TO_CLOSE
)

// optionsOf runs a workflow that returns the activity options set by with.
func optionsOf(t *testing.T, with func(workflow.Context) workflow.Context) workflow.ActivityOptions {
	h := newHarness(t)
	h.env.ExecuteWorkflow(func(ctx workflow.Context) (workflow.ActivityOptions, error) {
		return workflow.GetActivityOptions(with(ctx)), nil
	})
	require.NoError(t, h.env.GetWorkflowError())
	var opts workflow.ActivityOptions
	require.NoError(t, h.env.GetWorkflowResult(&opts))
	return opts
}

func TestWithControl_Options(t *testing.T) {
	opts := optionsOf(t, withControl)
	require.Equal(t, contract.ControlTaskQueue, opts.TaskQueue)
	require.Equal(t, 30*time.Second, opts.StartToCloseTimeout)
	require.Equal(t, 30*time.Minute, opts.ScheduleToCloseTimeout)
	require.Equal(t, 10*time.Second, opts.HeartbeatTimeout, "a killed control worker costs seconds")
	require.Equal(t, contract.NonRetryableErrorTypes(), opts.RetryPolicy.NonRetryableErrorTypes)
}

func TestWithNode_WaitsOnTheHostQueueUntilTheDeadline(t *testing.T) {
	opts := optionsOf(t, func(ctx workflow.Context) workflow.Context {
		return withNode(ctx, contract.NodePlacement{NodeID: "n1", Host: "host-z"}, 2*time.Hour)
	})
	require.Equal(t, "byokflow-node-host-z", opts.TaskQueue, "derived from the host when unset")
	require.Equal(t, 2*time.Hour, opts.ScheduleToStartTimeout)
	require.Equal(t, time.Minute, opts.StartToCloseTimeout)
	require.Equal(t, 15*time.Second, opts.HeartbeatTimeout, "a killed agent costs seconds")
	require.Equal(t, 2*time.Hour+nodeRetryWindow, opts.ScheduleToCloseTimeout)
	require.True(t, opts.WaitForCancellation)
	require.Contains(t, opts.RetryPolicy.NonRetryableErrorTypes, contract.ErrTypeKeySlotConflict)
}

func TestWithServerNode_LongerAttemptsOnTheHostQueue(t *testing.T) {
	opts := optionsOf(t, func(ctx workflow.Context) workflow.Context {
		return withServerNode(ctx, contract.NodePlacement{NodeID: "n1", Host: "host-z"}, 2*time.Hour)
	})
	require.Equal(t, "byokflow-node-host-z", opts.TaskQueue)
	require.Equal(t, 2*time.Hour, opts.ScheduleToStartTimeout)
	require.Equal(t, 10*time.Minute, opts.StartToCloseTimeout, "initdb or pg_basebackup, then a start")
	require.Equal(t, 15*time.Second, opts.HeartbeatTimeout, "heartbeats cover the blocking steps")
	require.Equal(t, 2*time.Hour+nodeRetryWindow, opts.ScheduleToCloseTimeout)
	require.True(t, opts.WaitForCancellation)
	require.Contains(t, opts.RetryPolicy.NonRetryableErrorTypes, contract.ErrTypeStorageUnsupported)
}

func TestNodeQueue_PrefersRecordedQueue(t *testing.T) {
	require.Equal(t, "custom", nodeQueue(contract.NodePlacement{Host: "h", TaskQueue: "custom"}))
	require.Equal(t, contract.NodeTaskQueue("h"), nodeQueue(contract.NodePlacement{Host: "h"}))
}

func TestWithDataNode_LongAttemptsThatHeartbeat(t *testing.T) {
	opts := optionsOf(t, func(ctx workflow.Context) workflow.Context {
		return withDataNode(ctx, contract.NodePlacement{NodeID: "n1", Host: "host-z"}, 2*time.Hour)
	})
	require.Equal(t, "byokflow-node-host-z", opts.TaskQueue)
	require.Equal(t, 2*time.Hour, opts.ScheduleToStartTimeout)
	require.Equal(t, dataStartToClose, opts.StartToCloseTimeout)
	require.Equal(t, 15*time.Second, opts.HeartbeatTimeout)
	require.True(t, opts.WaitForCancellation)
	require.Contains(t, opts.RetryPolicy.NonRetryableErrorTypes, contract.ErrTypeBackupCorrupt)
}

func TestWithKeyDeletion_WaitsUpToTheApprovalTimeout(t *testing.T) {
	opts := optionsOf(t, func(ctx workflow.Context) workflow.Context { return withKeyDeletion(ctx, 24*time.Hour) })
	require.Equal(t, contract.ControlTaskQueue, opts.TaskQueue)
	require.Equal(t, 24*time.Hour, opts.ScheduleToCloseTimeout)
	require.Equal(t, time.Second, opts.RetryPolicy.InitialInterval, "a dead worker's attempt is retried at once")
	require.EqualValues(t, math.MaxInt32, opts.RetryPolicy.MaximumAttempts, "the wait, not the count, ends the retries")
	require.NotContains(t, opts.RetryPolicy.NonRetryableErrorTypes, contract.RetryTypeDualAuthPending)

	short := optionsOf(t, func(ctx workflow.Context) workflow.Context { return withKeyDeletion(ctx, time.Minute) })
	require.Equal(t, controlScheduleToClose, short.ScheduleToCloseTimeout, "never shorter than any control activity")
}
