package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"
)

// waitEndingIn runs runWorkflow with ctx against a client whose wait for
// the result returns err.
func waitEndingIn(t *testing.T, ctx context.Context, err error) error {
	t.Helper()
	run := &mocks.WorkflowRun{}
	run.On("GetID").Return("provision-orders")
	run.On("GetRunID").Return("run-1")
	run.On("Get", mock.Anything, mock.Anything).Return(err)
	c := &mocks.Client{}
	c.On("ExecuteWorkflow", mock.Anything, mock.Anything, "ProvisionEncryptedInstance", mock.Anything).
		Return(run, nil)
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	return a.runWorkflow(ctx, c, client.StartWorkflowOptions{ID: "provision-orders"},
		"ProvisionEncryptedInstance", nil, nil)
}

// TestRunWorkflow_OnlyAnEndedWorkflowIsEnded: a workflow that ended in
// failure is ended (its command may undo what it prepared, a provision's
// admin password); a wait cut off by Temporal being unreachable, or
// interrupted, is not, for the workflow may run on with that password's
// verifier; its error names the workflow and says to run the command
// again, which attaches to it.
func TestRunWorkflow_OnlyAnEndedWorkflowIsEnded(t *testing.T) {
	failed := fmt.Errorf("get result: %w", &temporal.WorkflowExecutionError{})
	require.True(t, nothingRuns(waitEndingIn(t, context.Background(), failed)), "a failed workflow ended")
	for name, err := range map[string]error{
		"temporal down":        serviceerror.NewUnavailable("connection refused"),
		"retries expired":      context.DeadlineExceeded,
		"grpc canceled status": serviceerror.NewCanceled("context canceled"),
	} {
		got := waitEndingIn(t, context.Background(), err)
		require.ErrorIs(t, got, err, name)
		require.False(t, nothingRuns(got), "%s: the workflow may run on", name)
		require.Contains(t, got.Error(), "workflow provision-orders", name)
		require.Contains(t, got.Error(), "run the same command again", name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := waitEndingIn(t, ctx, serviceerror.NewCanceled("context canceled"))
	require.ErrorIs(t, got, context.Canceled, "interrupted")
	require.False(t, nothingRuns(got), "interrupted: the workflow may run on")
	require.Contains(t, withNextStep(got).Error(), "run the same command again", "interrupted")
	require.False(t, nothingRuns(errors.New("start ProvisionEncryptedInstance: unavailable")), "a failed start")
	require.True(t, nothingRuns(unreachedError{errors.New("dial temporal: connection refused")}), "Temporal never reached")
}
