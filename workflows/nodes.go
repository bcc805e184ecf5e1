package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// nodeCall is one node activity to run on the task queue of node's host.
type nodeCall struct {
	node     contract.NodePlacement
	activity string
	input    any
}

// nodeOutcome is what one node activity returned.
type nodeOutcome struct {
	node   contract.NodePlacement
	report contract.NodeReport
	err    error
}

// nodeRun is the outcome of a node step, in placement order. first is the
// index of the first failure in arrival order, or -1.
type nodeRun struct {
	outcomes []nodeOutcome
	first    int
}

// runOnNodes runs every call in parallel and waits for all of them. On the
// first failure it cancels the others, since the step has failed anyway;
// tasks not yet picked up are withdrawn from their queues at once.
func runOnNodes(ctx workflow.Context, calls []nodeCall, deadline time.Duration, t *tracker) nodeRun {
	ctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	run := nodeRun{outcomes: make([]nodeOutcome, len(calls)), first: -1}
	sel := workflow.NewSelector(ctx)
	for i, c := range calls {
		t.waiting(c.node.NodeID, workflow.Now(ctx))
		f := workflow.ExecuteActivity(withNode(ctx, c.node, deadline), c.activity, c.input)
		sel.AddFuture(f, func(f workflow.Future) {
			o := nodeOutcome{node: c.node}
			o.err = f.Get(ctx, &o.report)
			run.outcomes[i] = o
			track(t, o)
			if o.err != nil && run.first < 0 {
				run.first = i
				cancel()
			}
		})
	}
	for range calls {
		sel.Select(ctx)
	}
	return run
}

// track records one outcome in progress.
func track(t *tracker, o nodeOutcome) {
	if o.err == nil {
		t.reported(o.report)
		return
	}
	t.stopped(o.node.NodeID, progressOfError(o.err), errorDetail(o.err))
}

// reports returns every node's report, in placement order.
func (r nodeRun) reports() []contract.NodeReport {
	out := make([]contract.NodeReport, len(r.outcomes))
	for i, o := range r.outcomes {
		out[i] = o.report
	}
	return out
}

// dropKeySlots removes the key slots of nodes, in parallel, and waits for all.
func dropKeySlots(ctx workflow.Context, instanceID string, nodes []contract.NodePlacement, deadline time.Duration) error {
	futures := make([]workflow.Future, len(nodes))
	for i, n := range nodes {
		in := contract.DropKeySlotInput{InstanceID: instanceID, NodeID: n.NodeID}
		futures[i] = workflow.ExecuteActivity(withNode(ctx, n, deadline), contract.ActivityDropKeySlot, in)
	}
	var errs []error
	for _, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
