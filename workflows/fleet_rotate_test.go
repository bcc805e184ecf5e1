package workflows

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// The scheduled work's activities join the stubs of the harness.
func init() {
	stubs[contract.ActivityListFleet] = stub[contract.ListFleetInput, contract.ListFleetResult]()
	stubs[contract.ActivityListExpiredBackups] = stub[contract.ListExpiredBackupsInput, contract.ListExpiredBackupsResult]()
	stubs[contract.ActivityEraseBackupKey] = stub[contract.EraseBackupKeyInput, contract.EraseBackupKeyResult]()
	stubs[contract.ActivityDeleteBackupFile] = stub[contract.DeleteBackupFileInput, contract.DeleteBackupFileResult]()
	stubs[contract.ActivityRecordBackupFileDeleted] = stubNoResult[contract.RecordBackupFileDeletedInput]()
}

var fleet = []string{"orders-a", "orders-b", "orders-c", "orders-d", "orders-e"}

// mockFleetRotations mocks every RotateRootKey child: each takes a minute
// of workflow time, the first rotates the key and the others only rewrap;
// failing maps instances to their error. It returns the start times.
func (h *harness) mockFleetRotations(failing map[string]error) func() map[time.Time]int {
	var mu sync.Mutex
	starts := map[time.Time]int{}
	first := true
	h.env.OnWorkflow(contract.WorkflowRotateRootKey, mock.Anything, mock.Anything).After(time.Minute).Return(
		func(ctx workflow.Context, in contract.RotateInput) (contract.RotateResult, error) {
			mu.Lock()
			defer mu.Unlock()
			starts[workflow.Now(ctx)]++
			if err := failing[in.InstanceID]; err != nil {
				return contract.RotateResult{}, err
			}
			rotated := first
			first = false
			return contract.RotateResult{InstanceID: in.InstanceID, Rotated: rotated}, nil
		})
	return func() map[time.Time]int { mu.Lock(); defer mu.Unlock(); return starts }
}

func TestFleetRotate_RootKey_RotatesEveryInstanceAtMostParallelAtOnce(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityListFleet, contract.ListFleetResult{InstanceIDs: fleet}, nil)
	starts := h.mockFleetRotations(nil)

	h.env.ExecuteWorkflow(contract.WorkflowFleetRotate, contract.FleetRotateInput{RootKeyID: rootKeyID, Parallel: 2})

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.FleetRotateResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, contract.FleetRotateResult{Instances: 5, Tally: contract.FleetTally{Rotated: 1, Rewrapped: 4, Runs: 1}}, res)
	h.env.AssertActivityCalled(t, contract.ActivityListFleet, mock.Anything, contract.ListFleetInput{RootKeyID: rootKeyID})
	for at, n := range starts() {
		require.LessOrEqual(t, n, 2, "children started at %s", at)
	}
	require.Len(t, starts(), 3, "5 children, 2 at a time: 3 waves")
}

func TestFleetRotate_BusyInstance_IsSkippedNotFailed(t *testing.T) {
	h := newHarness(t)
	busy := contract.NewError(contract.ErrTypeInstanceBusy, "lock instance orders-b: backup-orders-b runs", nil)
	h.mockFleetRotations(map[string]error{"orders-b": busy})

	h.env.ExecuteWorkflow(contract.WorkflowFleetRotate, contract.FleetRotateInput{InstanceIDs: []string{"orders-a", "orders-b"}})

	require.NoError(t, h.env.GetWorkflowError())
	var res contract.FleetRotateResult
	require.NoError(t, h.env.GetWorkflowResult(&res))
	require.Equal(t, 2, res.Instances)
	require.Len(t, res.Tally.Skipped, 1)
	require.Equal(t, "orders-b", res.Tally.Skipped[0].InstanceID)
	require.Contains(t, res.Tally.Skipped[0].Reason, "backup-orders-b runs")
	require.Empty(t, res.Tally.Failed)
	h.env.AssertActivityNotCalled(t, contract.ActivityListFleet, mock.Anything, mock.Anything)
}

func TestFleetRotate_FailedInstance_RotatesTheOthersThenFailsNamingIt(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityListFleet, contract.ListFleetResult{InstanceIDs: fleet}, nil)
	bad := contract.NewError(contract.ErrTypeKeyNotActive, "rotate root key of instance orders-c: key disabled", nil)
	h.mockFleetRotations(map[string]error{"orders-c": bad})

	h.env.ExecuteWorkflow(contract.WorkflowFleetRotate, contract.FleetRotateInput{All: true})

	require.Equal(t, contract.ErrTypeFleetIncomplete, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), "orders-c (rotate root key of instance orders-c: key disabled [KeyNotActive])")
	require.ErrorContains(t, h.env.GetWorkflowError(), "1 of 5 instances failed")
	h.env.AssertActivityCalled(t, contract.ActivityListFleet, mock.Anything, contract.ListFleetInput{All: true})
}

func TestFleetRotate_LargeFleet_ContinuesAsNewWithTheRest(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityListFleet, contract.ListFleetResult{InstanceIDs: fleet}, nil)
	h.mockFleetRotations(nil)

	h.env.ExecuteWorkflow(contract.WorkflowFleetRotate, contract.FleetRotateInput{All: true, Batch: 2})

	err := h.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &can), "%v", err)
	var next contract.FleetRotateInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, []string{"orders-c", "orders-d", "orders-e"}, next.Pending)
	require.Equal(t, contract.FleetTally{Rotated: 1, Rewrapped: 1, Runs: 1}, next.Tally)
	require.True(t, next.All)
}

func TestFleetRotate_Child_TakesTheInstanceLockItself(t *testing.T) {
	h := newHarness(t)
	h.mockRotate()

	h.env.ExecuteWorkflow(contract.WorkflowFleetRotate, contract.FleetRotateInput{InstanceIDs: []string{instanceID}})

	require.NoError(t, h.env.GetWorkflowError())
	h.env.AssertActivityCalled(t, contract.ActivityAcquireInstanceOperation, mock.Anything, mock.MatchedBy(
		func(in contract.AcquireInstanceOperationInput) bool {
			return in.InstanceID == instanceID && in.Operation == contract.OperationRotate && in.WorkflowID == "rotate-"+instanceID
		}))
	require.Empty(t, h.locked, "released")
}

func TestFleetRotate_NoTarget_IsInvalidInput(t *testing.T) {
	h := newHarness(t)
	h.env.ExecuteWorkflow(contract.WorkflowFleetRotate, contract.FleetRotateInput{})
	require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
}

func TestFleetOrder_TheFirstOfEachKeyRotatesTheOthersRewrap(t *testing.T) {
	pending, rewrapOnly := fleetOrder(contract.ListFleetResult{
		InstanceIDs: []string{"a", "b", "c", "d", "e"}, RootKeyIDs: []string{"k1", "k2", "k1", "k1", "k3"}})

	require.Equal(t, []string{"a", "b", "e", "c", "d"}, pending)
	require.Equal(t, []string{"c", "d"}, rewrapOnly)
}

func TestFleetRotate_SharedKey_RotatesOnceThenTheOthersRewrapAfterIt(t *testing.T) {
	h := newHarness(t)
	h.on(contract.ActivityListFleet, contract.ListFleetResult{InstanceIDs: []string{"a", "b", "c"},
		RootKeyIDs: []string{rootKeyID, rootKeyID, "other-key"}}, nil)
	var mu sync.Mutex
	started := map[string]time.Time{}
	rewrap := map[string]bool{}
	h.env.OnWorkflow(contract.WorkflowRotateRootKey, mock.Anything, mock.Anything).After(time.Minute).Return(
		func(ctx workflow.Context, in contract.RotateInput) (contract.RotateResult, error) {
			mu.Lock()
			defer mu.Unlock()
			started[in.InstanceID], rewrap[in.InstanceID] = workflow.Now(ctx), in.RewrapOnly
			return contract.RotateResult{InstanceID: in.InstanceID, Rotated: !in.RewrapOnly}, nil
		})

	h.env.ExecuteWorkflow(contract.WorkflowFleetRotate, contract.FleetRotateInput{All: true, Parallel: 4})

	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, map[string]bool{"a": false, "b": true, "c": false}, rewrap)
	require.True(t, started["b"].After(started["a"]), "b rewraps only after a rotated the shared key")
	require.Equal(t, started["a"], started["c"], "keys of their own rotate side by side")
}
