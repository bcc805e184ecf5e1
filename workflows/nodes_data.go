package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// loadActive loads an instance, fails unless it is active (verb says what
// was refused), and tracks its nodes and root key.
func loadActive(ctx workflow.Context, instanceID, verb string, track *tracker) (contract.LoadInstanceResult, error) {
	inst, err := loadInstance(ctx, instanceID, track)
	if err != nil {
		return inst, err
	}
	if err := requireActive(verb, instanceID, inst); err != nil {
		return inst, err
	}
	track.nodes(inst.Nodes)
	return inst, trackRootKey(ctx, track, inst.RootKeyID)
}

// loadInstance reads the instance record.
func loadInstance(ctx workflow.Context, instanceID string, track *tracker) (contract.LoadInstanceResult, error) {
	var inst contract.LoadInstanceResult
	track.step("load instance")
	load := contract.LoadInstanceInput{InstanceID: instanceID}
	err := workflow.ExecuteActivity(ctx, contract.ActivityLoadInstance, load).Get(ctx, &inst)
	return inst, err
}

// dataCall is a backup or restore to run on one node.
type dataCall struct {
	instanceID string
	node       contract.NodePlacement
	activity   string
	input      any
	deadline   time.Duration
	hint       string
}

// runData runs c on its node, heartbeating, and decodes the result into
// out. Progress shows the node waiting, then done or failed; a node whose
// agent did not pick the task up in time fails NodeDeadline naming it.
func runData(ctx workflow.Context, c dataCall, out any, track *tracker) error {
	track.waiting(c.node.NodeID, workflow.Now(ctx))
	err := workflow.ExecuteActivity(withDataNode(ctx, c.node, c.deadline), c.activity, c.input).Get(ctx, out)
	if err != nil {
		track.stopped(c.node.NodeID, progressOfError(err), errorDetail(err))
		return singleNodeError(err, c.node, c.instanceID, c.deadline, c.hint)
	}
	track.stopped(c.node.NodeID, contract.ProgressDone, "")
	return nil
}
