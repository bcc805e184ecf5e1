package correlation

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
)

func TestID_IsAFrozenUUIDv5OfTheRun(t *testing.T) {
	id := ID("rotate-orders", "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b")

	require.Equal(t, uuid.Version(5), id.Version())
	require.Equal(t, uuid.RFC4122, id.Variant())
	require.Equal(t, id, ID("rotate-orders", "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"), "deterministic")
	// Python: uuid5(uuid5(NAMESPACE_URL, "urn:byokflow:workflow-run"), "rotate-orders/0b5f…")
	require.Equal(t, "0235c464-34f3-5710-9791-2aecdaaa3141", id.String(), "frozen: Key Protect records made earlier must still match")
}

func TestID_DiffersPerWorkflowAndRun(t *testing.T) {
	a := ID("rotate-orders", "run-1")
	require.NotEqual(t, a, ID("rotate-orders", "run-2"), "another run of the same workflow id")
	require.NotEqual(t, a, ID("rotate-orders2", "run-1"), "another workflow")
	require.NotEqual(t, a, ID("provision-orders", "run-1"))
}

func TestFromContext_EmptyOutsideAnActivity(t *testing.T) {
	require.Empty(t, FromContext(context.Background()))
}

func TestInterceptor_PutsTheRunsIDOnTheActivityContext(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{Interceptor()}})
	env.RegisterActivity(func(ctx context.Context) (string, error) { return FromContext(ctx), nil })

	v, err := env.ExecuteActivity("func1")
	require.NoError(t, err)
	var got string
	require.NoError(t, v.Get(&got))

	require.NotEmpty(t, got)
	require.Equal(t, ID("default-test-workflow-id", "default-test-run-id").String(), got)
}
