package workflows

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// reconcileMocks mocks the catalog's live instances, Key Protect's answer
// per key and the record of each reaction; reads and records collect what
// the workflow asked.
type reconcileMocks struct {
	mu      sync.Mutex
	reads   []string
	records []contract.RecordReconcileInput
}

func (h *harness) mockReconcile(targets []contract.ReconcileTarget, keys map[string]contract.KPKey) *reconcileMocks {
	m := &reconcileMocks{}
	h.on(contract.ActivityListReconcileTargets, contract.ListReconcileTargetsResult{Instances: targets}, nil)
	h.on(contract.ActivityReadReconcileKey, func(_ context.Context, in contract.ReadReconcileKeyInput) (contract.KPKey, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.reads = append(m.reads, in.RootKeyID)
		return keys[in.RootKeyID], nil
	})
	h.on(contract.ActivityRecordReconcile, func(_ context.Context, in contract.RecordReconcileInput) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.records = append(m.records, in)
		return nil
	})
	return m
}

func on(id, key string, state contract.InstanceState, by contract.SuspendCause, ns ...contract.KeyState) contract.ReconcileTarget {
	t := target(state, by, "v1", ns...)
	t.InstanceID, t.RootKeyID = id, key
	return t
}

func (h *harness) reconcileResult() contract.ReconcileResult {
	h.t.Helper()
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var res contract.ReconcileResult
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	return res
}

func TestReconcile_OneReadPerKeyAndAChildPerInstance(t *testing.T) {
	h := newHarness(t)
	rotated := kpActive
	rotated.KeyVersionID = "v2"
	m := h.mockReconcile([]contract.ReconcileTarget{
		on("alpha", "k-off", contract.InstanceActive, "", act, act),
		on("beta", "k-off", contract.InstanceActive, "", act),
		on("gamma", "k-new", contract.InstanceActive, "", act),
		on("delta", "k-off", contract.InstanceActive, contract.SuspendedByOperator, sus),
	}, map[string]contract.KPKey{"k-off": kpDisabled, "k-new": rotated})
	var suspended []contract.SuspendInput
	h.env.OnWorkflow(contract.WorkflowSuspendInstance, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in contract.SuspendInput) (contract.NodesResult, error) {
			suspended = append(suspended, in)
			if in.InstanceID == "beta" {
				return contract.NodesResult{}, contract.NewError(contract.ErrTypeInstanceBusy, "instance beta is busy", nil)
			}
			return contract.NodesResult{InstanceID: in.InstanceID}, nil
		})
	var rotations []contract.RotateInput
	h.env.OnWorkflow(contract.WorkflowRotateRootKey, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in contract.RotateInput) (contract.RotateResult, error) {
			rotations = append(rotations, in)
			return contract.RotateResult{}, nil
		})

	h.env.ExecuteWorkflow(contract.WorkflowReconcileKeys, contract.ReconcileInput{})

	res := h.reconcileResult()
	require.ElementsMatch(t, []string{"k-off", "k-new"}, m.reads, "one Key Protect read per key")
	require.Len(t, res.Keys, 2)
	require.Equal(t, []string{"alpha", "beta", "delta"}, res.Keys[0].Instances)
	got := map[string]contract.ReconcileInstanceResult{}
	for _, r := range res.Instances {
		got[r.InstanceID] = r
	}
	require.Len(t, got, 3, "delta, suspended by an operator, needs nothing")
	require.Equal(t, "done", got["alpha"].Outcome)
	require.Equal(t, contract.ReconcileSuspend, got["alpha"].Action)
	require.Equal(t, "Suspended", got["alpha"].KeyState)
	require.Contains(t, got["beta"].Outcome, "skipped: instance beta is busy")
	require.Equal(t, contract.ReconcileRewrap, got["gamma"].Action)
	require.Len(t, rotations, 1)
	require.True(t, rotations[0].RewrapOnly)
	for _, s := range suspended {
		require.Equal(t, contract.SuspendedByKeyDisabled, s.Cause)
	}
	require.Len(t, m.records, 3, "every reaction is an audit event")
	for _, r := range m.records {
		require.NotEmpty(t, r.KeyState)
	}
}

func TestReconcile_UnreachableSuspendsNothing(t *testing.T) {
	h := newHarness(t)
	m := h.mockReconcile([]contract.ReconcileTarget{on("alpha", "k", contract.InstanceActive, "", act, act)},
		map[string]contract.KPKey{"k": kpDown})

	h.env.ExecuteWorkflow(contract.WorkflowReconcileKeys, contract.ReconcileInput{})

	res := h.reconcileResult()
	require.Len(t, res.Instances, 1)
	require.Equal(t, contract.ReconcileUnreachable, res.Instances[0].Action)
	require.Empty(t, res.Instances[0].Child, "no child workflow")
	require.Len(t, m.records, 1)
	require.True(t, m.records[0].Unreachable)
	require.Equal(t, "unreachable", m.records[0].KeyState)
}

func TestReconcile_BoundedPerRun(t *testing.T) {
	h := newHarness(t)
	h.mockReconcile([]contract.ReconcileTarget{
		on("alpha", "k", contract.InstanceActive, "", act),
		on("beta", "k", contract.InstanceActive, "", act),
		on("gamma", "k", contract.InstanceActive, "", act),
	}, map[string]contract.KPKey{"k": kpDisabled})
	h.env.OnWorkflow(contract.WorkflowSuspendInstance, mock.Anything, mock.Anything).Return(contract.NodesResult{}, nil)

	h.env.ExecuteWorkflow(contract.WorkflowReconcileKeys, contract.ReconcileInput{MaxReactions: 2})

	res := h.reconcileResult()
	require.Len(t, res.Instances, 2)
	require.Equal(t, []string{"gamma"}, res.Deferred)
}

func TestReconcile_RestoredKeyMarksActiveBeforeResuming(t *testing.T) {
	h := newHarness(t)
	m := h.mockReconcile([]contract.ReconcileTarget{
		on("alpha", "k", contract.InstanceKeyDestroyed, contract.SuspendedByKeyDestroyed, sus),
	}, map[string]contract.KPKey{"k": kpActive})
	resumed := 0
	h.env.OnWorkflow(contract.WorkflowResumeInstance, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in contract.ResumeInput) (contract.NodesResult, error) {
			require.Len(t, m.records, 1, "marked active first")
			resumed++
			return contract.NodesResult{}, nil
		})

	h.env.ExecuteWorkflow(contract.WorkflowReconcileKeys, contract.ReconcileInput{})

	h.reconcileResult()
	require.Equal(t, 1, resumed)
	require.Len(t, m.records, 2)
	require.Equal(t, contract.InstanceActive, m.records[0].SetState)
	require.Empty(t, m.records[1].SetState)
	require.Equal(t, "done", m.records[1].Outcome)
}

func TestReconcile_InvalidInput(t *testing.T) {
	h := newHarness(t)
	h.env.ExecuteWorkflow(contract.WorkflowReconcileKeys, contract.ReconcileInput{Grace: -1})
	require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
}
