package activities

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// fakeRuns answers DescribeWorkflowExecution from a table of run
// statuses; a run not in it is unknown to Temporal.
type fakeRuns map[string]enums.WorkflowExecutionStatus

func (f fakeRuns) DescribeWorkflowExecution(_ context.Context, workflowID, runID string) (
	*workflowservice.DescribeWorkflowExecutionResponse, error) {
	status, ok := f[workflowID+"/"+runID]
	if !ok {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflow.WorkflowExecutionInfo{Status: status}}, nil
}

func acquireInput(workflowID, runID, operation string) contract.AcquireInstanceOperationInput {
	return contract.AcquireInstanceOperationInput{InstanceID: "orders-db", Operation: operation,
		WorkflowID: workflowID, RunID: runID}
}

func TestAcquireInstanceOperation_TheHolderDecides(t *testing.T) {
	tests := []struct {
		name     string
		holder   enums.WorkflowExecutionStatus
		known    bool
		wantBusy bool
	}{
		{"holder running: refused", enums.WORKFLOW_EXECUTION_STATUS_RUNNING, true, true},
		{"holder completed: taken over", enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, true, false},
		{"holder failed: taken over", enums.WORKFLOW_EXECUTION_STATUS_FAILED, true, false},
		{"holder terminated: taken over", enums.WORKFLOW_EXECUTION_STATUS_TERMINATED, true, false},
		{"holder timed out: taken over", enums.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, true, false},
		{"holder canceled: taken over", enums.WORKFLOW_EXECUTION_STATUS_CANCELED, true, false},
		{"holder unknown to Temporal: taken over", 0, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newCatalogHarness(t)
			runs := fakeRuns{}
			if tc.known {
				runs["rotate-orders-db/r1"] = tc.holder
			}
			h.acts.UseWorkflowRuns(runs)
			require.NoError(t, h.run(contract.ActivityAcquireInstanceOperation,
				acquireInput("rotate-orders-db", "r1", contract.OperationRotate), nil))

			var res contract.AcquireInstanceOperationResult
			err := h.run(contract.ActivityAcquireInstanceOperation,
				acquireInput("backup-orders-db", "b1", contract.OperationBackup), &res)

			held, cerr := h.cat.CurrentOperation(context.Background(), "orders-db")
			require.NoError(t, cerr)
			if tc.wantBusy {
				requireTyped(t, err, contract.ErrTypeInstanceBusy, "rotate-orders-db", "(rotate",
					"wait for it to finish", "starter status --instance orders-db")
				require.True(t, held.Holds("rotate-orders-db", "r1"))
				return
			}
			require.NoError(t, err)
			require.Equal(t, "rotate-orders-db/r1", res.TookOverFrom)
			require.True(t, held.Holds("backup-orders-db", "b1"))
			require.Equal(t, contract.OperationBackup, held.Operation)
		})
	}
}

func TestAcquireInstanceOperation_RetryAndReleaseAreIdempotent(t *testing.T) {
	h := newCatalogHarness(t)
	h.acts.UseWorkflowRuns(fakeRuns{"shred-orders-db/s1": enums.WORKFLOW_EXECUTION_STATUS_RUNNING})
	in := acquireInput("shred-orders-db", "s1", contract.OperationShred)
	require.NoError(t, h.run(contract.ActivityAcquireInstanceOperation, in, nil))
	require.NoError(t, h.run(contract.ActivityAcquireInstanceOperation, in, nil), "a retry of the same run")

	release := contract.ReleaseInstanceOperationInput{InstanceID: "orders-db", WorkflowID: in.WorkflowID, RunID: in.RunID}
	require.NoError(t, h.run(contract.ActivityReleaseInstanceOperation, release, nil))
	require.NoError(t, h.run(contract.ActivityReleaseInstanceOperation, release, nil), "a retry finds it released")
	_, err := h.cat.CurrentOperation(context.Background(), "orders-db")
	require.ErrorIs(t, err, catalog.ErrNotFound)
}

func TestMarkNeedsAttention_MarksAuditsAndClears(t *testing.T) {
	h := newCatalogHarness(t)
	h.hosts("host-a")
	require.NoError(t, h.run(contract.ActivityCreateInstanceRecord, recordInput("provision-orders-db/r1"), nil))
	mark := contract.MarkNeedsAttentionInput{InstanceID: "orders-db", Attention: contract.Attention{
		Operation: contract.OperationProvision, Step: contract.ActivityDropKeySlot, Subject: "orders-db",
		Error: "drop key slot of node orders-db-1: host host-a is down", WorkflowID: "provision-orders-db"}}

	require.NoError(t, h.run(contract.ActivityMarkNeedsAttention, mark, nil))
	require.NoError(t, h.run(contract.ActivityMarkNeedsAttention, mark, nil), "a retry")

	var inst contract.LoadInstanceResult
	require.NoError(t, h.run(contract.ActivityLoadInstance, contract.LoadInstanceInput{InstanceID: "orders-db"}, &inst))
	require.Equal(t, contract.InstanceNeedsAttention, inst.State)
	require.NotNil(t, inst.Attention)
	require.Equal(t, mark.Attention.Step, inst.Attention.Step)
	require.Equal(t, mark.Attention.Error, inst.Attention.Error)
	require.Equal(t, 1, countOps(h.auditOps("orders-db"), "instance.needs-attention"))

	require.NoError(t, h.run(contract.ActivityClearNeedsAttention, contract.ClearNeedsAttentionInput{InstanceID: "orders-db"}, nil))
	var cleared contract.LoadInstanceResult
	require.NoError(t, h.run(contract.ActivityLoadInstance, contract.LoadInstanceInput{InstanceID: "orders-db"}, &cleared))
	require.Equal(t, contract.InstancePending, cleared.State)
	require.Nil(t, cleared.Attention)
}

func TestCheckKPInstance_UnknownInstanceFailsBeforeAnythingIsMade(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.run(contract.ActivityCheckKPInstance, contract.CheckKPInstanceInput{}, nil),
		"the default instance exists")
	require.NoError(t, h.run(contract.ActivityCheckKPInstance,
		contract.CheckKPInstanceInput{KPInstanceID: h.emu.Dev.KPInstanceID}, nil))

	err := h.run(contract.ActivityCheckKPInstance, contract.CheckKPInstanceInput{KPInstanceID: "no-such-kp-instance"}, nil)

	requireTyped(t, err, contract.ErrTypeKPInstanceNotFound, "no-such-kp-instance", "nothing was created",
		"check the instance id")
}

func TestAcquireInstanceOperation_AChildRunsUnderItsParentsLockOnly(t *testing.T) {
	h := newCatalogHarness(t)
	h.acts.UseWorkflowRuns(fakeRuns{"restore-copy/p1": enums.WORKFLOW_EXECUTION_STATUS_RUNNING})
	require.NoError(t, h.run(contract.ActivityAcquireInstanceOperation,
		acquireInput("restore-copy", "p1", contract.OperationRestore), nil))

	var under contract.AcquireInstanceOperationResult
	child := acquireInput("provision-copy", "c1", contract.OperationProvision)
	child.ParentWorkflowID, child.ParentRunID = "restore-copy", "p1"
	require.NoError(t, h.run(contract.ActivityAcquireInstanceOperation, child, &under))
	stranger := acquireInput("rotate-orders-db", "c2", contract.OperationRotate)
	stranger.ParentWorkflowID, stranger.ParentRunID = "fleet-rotate", "f1"
	busy := h.run(contract.ActivityAcquireInstanceOperation, stranger, nil)

	require.True(t, under.UnderParent)
	requireTyped(t, busy, contract.ErrTypeInstanceBusy, "restore-copy")
}
