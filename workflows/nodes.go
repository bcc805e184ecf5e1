package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// nodeCall is one node activity to run on the task queue of node's host.
// server marks an activity that makes or starts a PostgreSQL server
// (withServerNode's longer attempts).
type nodeCall struct {
	node     contract.NodePlacement
	activity string
	input    any
	server   bool
}

// nodeOutcome is what one node activity returned.
type nodeOutcome struct {
	node   contract.NodePlacement
	report contract.NodeReport
	err    error
}

// nodeRun is the outcome of a node step, in placement order. first is the
// index of the first failure in arrival order, or -1. recordErr is the
// failure to record the reports in the catalog.
type nodeRun struct {
	outcomes  []nodeOutcome
	first     int
	recordErr error
}

// runOnNodes runs every call in parallel and waits for all of them,
// recording each node's report in the catalog as it arrives (so the Nodes
// page shows a node that reported while another is still awaited). On the
// first failure it cancels the others, since the step has failed anyway;
// tasks not yet picked up are withdrawn from their queues at once.
func runOnNodes(ctx workflow.Context, calls []nodeCall, deadline time.Duration, t *tracker) nodeRun {
	rec := newRecorder(ctx)
	cctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	run := nodeRun{outcomes: make([]nodeOutcome, len(calls)), first: -1}
	sel := workflow.NewSelector(cctx)
	for i, c := range calls {
		t.waiting(c.node.NodeID, workflow.Now(cctx))
		f := workflow.ExecuteActivity(nodeOptions(cctx, c, deadline), c.activity, c.input)
		sel.AddFuture(f, func(f workflow.Future) {
			o := nodeOutcome{node: c.node}
			o.err = f.Get(cctx, &o.report)
			run.outcomes[i] = o
			track(t, o)
			if o.err == nil {
				rec.record(o.report)
			} else if run.first < 0 {
				run.first = i
				cancel()
			}
		})
	}
	for range calls {
		sel.Select(cctx)
	}
	run.recordErr = rec.wait()
	return run
}

// nodeOptions is the activity context of call c.
func nodeOptions(ctx workflow.Context, c nodeCall, deadline time.Duration) workflow.Context {
	if c.server {
		return withServerNode(ctx, c.node, deadline)
	}
	return withNode(ctx, c.node, deadline)
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
		// A drop stops the node's server and deletes its files: a server step.
		futures[i] = workflow.ExecuteActivity(withServerNode(ctx, n, deadline), contract.ActivityDropKeySlot, in)
	}
	var errs []error
	for _, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// changeRecordReports is the workflow.GetVersion change id of the
// recording of node reports by the workflow (node agents no longer write
// the catalog): histories recorded before it replay without the step.
const changeRecordReports = "record-node-reports"

// recorder appends node reports to the catalog's key-status history, one
// RecordNodeReports activity per report, on a context that a canceled
// step does not cancel, so that what the nodes reported is kept.
type recorder struct {
	ctx     workflow.Context
	cancel  workflow.CancelFunc
	futures []workflow.Future
	off     bool // a history recorded before the change
}

func newRecorder(ctx workflow.Context) *recorder {
	off := workflow.GetVersion(ctx, changeRecordReports, workflow.DefaultVersion, 1) == workflow.DefaultVersion
	dctx, cancel := workflow.NewDisconnectedContext(withControl(ctx))
	return &recorder{ctx: dctx, cancel: cancel, off: off}
}

// record starts recording r.
func (r *recorder) record(rep contract.NodeReport) {
	if r.off {
		return
	}
	in := contract.RecordNodeReportsInput{Reports: []contract.NodeReport{rep}}
	r.futures = append(r.futures, workflow.ExecuteActivity(r.ctx, contract.ActivityRecordNodeReports, in))
}

// wait waits for every recording and returns the first failure.
func (r *recorder) wait() error {
	defer r.cancel()
	var first error
	for _, f := range r.futures {
		if err := f.Get(r.ctx, nil); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// runOne runs a single node call whose result, decoded into out, holds the
// node's report (report reads it), records the report, and returns the
// step's outcome as runOnNodes would.
func runOne(ctx workflow.Context, c nodeCall, out any, report func() contract.NodeReport,
	deadline time.Duration, t *tracker) nodeRun {
	rec := newRecorder(ctx)
	t.waiting(c.node.NodeID, workflow.Now(ctx))
	o := nodeOutcome{node: c.node}
	o.err = workflow.ExecuteActivity(nodeOptions(ctx, c, deadline), c.activity, c.input).Get(ctx, out)
	run := nodeRun{outcomes: []nodeOutcome{o}, first: -1}
	if o.err != nil {
		run.first = 0
		track(t, o)
		return run
	}
	run.outcomes[0].report = report()
	track(t, run.outcomes[0])
	rec.record(run.outcomes[0].report)
	run.recordErr = rec.wait()
	return run
}
