package workflows

import (
	"cmp"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// SuspendInstance takes an instance's keys away from its nodes, as a
// disabled root key must: every node stops its server, removes its fscrypt
// key (its data is ciphertext from then on) and zeroizes its DEK, and
// reports suspended; the key slots stay. ResumeInstance brings it back.
//
// Like every operation on an instance it holds the instance's lock.
//
// Its errors carry the contract error types: InvalidInput, InstanceBusy,
// InstanceNotFound, InstanceNotActive, what a node reports, NodeDeadline
// and NodeKeyMismatch.
func SuspendInstance(ctx workflow.Context, in contract.SuspendInput) (res contract.NodesResult, err error) {
	in = in.WithDefaults()
	ctx, track, unlock, err := beginLocked(ctx, contract.OperationSuspend, in.InstanceID, in.Validate())
	defer unlock()
	if err != nil {
		return res, err
	}
	inst, err := loadSuspendable(ctx, in.InstanceID, track)
	if err != nil {
		return res, err
	}
	// Who suspends is recorded first: a suspend stopped half way is still
	// the operator's (the reconciliation repairs it, never resumes it).
	if err := recordSuspension(ctx, in.InstanceID, cmp.Or(in.Cause, contract.SuspendedByOperator)); err != nil {
		return res, err
	}
	track.step("suspend nodes")
	calls := make([]nodeCall, len(inst.Nodes))
	for i, n := range inst.Nodes {
		calls[i] = nodeCall{node: n, activity: contract.ActivitySuspendNode, server: true,
			input: contract.SuspendNodeInput{InstanceID: in.InstanceID, NodeID: n.NodeID, Reason: in.Reason}}
	}
	run := runOnNodes(ctx, calls, in.NodeDeadline.D(), track)
	if err := nodeStepError(run, in.InstanceID, in.NodeDeadline.D(), suspendRetryHint); err != nil {
		return res, err
	}
	// Any key version: after a rotation stopped half way the nodes' slots
	// differ, and a suspend (a root key disabled) must not wait for it.
	if err := checkReportsIn(run, contract.KeySuspended, in.InstanceID, inst.RootKeyID, anyVersion,
		suspendRetryHint); err != nil {
		return res, err
	}
	track.step("done")
	return contract.NodesResult{InstanceID: in.InstanceID, Nodes: run.reports()}, nil
}

// ResumeInstance brings a suspended instance back: its primary, then its
// standbys, unwrap their key slots, add their fscrypt keys and start their
// servers. A root key that is still disabled fails KeySuspended.
func ResumeInstance(ctx workflow.Context, in contract.ResumeInput) (res contract.NodesResult, err error) {
	in = in.WithDefaults()
	ctx, track, unlock, err := beginLocked(ctx, contract.OperationResume, in.InstanceID, in.Validate())
	defer unlock()
	if err != nil {
		return res, err
	}
	inst, err := loadActive(ctx, in.InstanceID, "resume instance", track)
	if err != nil {
		return res, err
	}
	var reports []contract.NodeReport
	// The primary first: a standby streams only once its primary serves.
	for _, group := range [][]contract.NodePlacement{inst.Nodes[:1], inst.Nodes[1:]} {
		if len(group) == 0 {
			continue
		}
		track.step("resume nodes")
		calls := make([]nodeCall, len(group))
		for i, n := range group {
			calls[i] = nodeCall{node: n, activity: contract.ActivityResumeNode, server: true,
				input: contract.ResumeNodeInput{InstanceID: in.InstanceID, NodeID: n.NodeID}}
		}
		run := runOnNodes(ctx, calls, in.NodeDeadline.D(), track)
		if err := nodeStepError(run, in.InstanceID, in.NodeDeadline.D(), resumeRetryHint); err != nil {
			return res, err
		}
		if err := checkReports(run, in.InstanceID, inst.RootKeyID, anyVersion, resumeRetryHint); err != nil {
			return res, err
		}
		reports = append(reports, run.reports()...)
	}
	if err := recordSuspension(ctx, in.InstanceID, ""); err != nil {
		return res, err
	}
	track.step("done")
	return contract.NodesResult{InstanceID: in.InstanceID, Nodes: reports}, nil
}

// changeSuspendCause is the workflow.GetVersion change id of the record
// of who suspended an instance: histories recorded before it replay
// without the step.
const changeSuspendCause = "suspend-cause"

// recordSuspension records who suspended the instance (cause), or clears
// it once resumed (empty cause).
func recordSuspension(ctx workflow.Context, instanceID string, cause contract.SuspendCause) error {
	if workflow.GetVersion(ctx, changeSuspendCause, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	in := contract.RecordSuspensionInput{InstanceID: instanceID, Cause: cause}
	return workflow.ExecuteActivity(ctx, contract.ActivityRecordSuspension, in).Get(ctx, nil)
}

// loadSuspendable is loadActive that also accepts an instance whose root
// key is destroyed: its nodes must stay locked, and a node that came back
// is suspended again.
func loadSuspendable(ctx workflow.Context, instanceID string, track *tracker) (contract.LoadInstanceResult, error) {
	inst, err := loadInstance(ctx, instanceID, track)
	if err != nil {
		return inst, err
	}
	if inst.State == contract.InstanceKeyDestroyed {
		inst.State = contract.InstanceActive
	}
	if err := requireActive("suspend instance", instanceID, inst); err != nil {
		return inst, err
	}
	track.nodes(inst.Nodes)
	return inst, trackRootKey(ctx, track, inst.RootKeyID)
}

// NodeCheckIn records a node agent's host and the reports of the nodes it
// brought back at start-up: node agents have no catalog connection, so
// this workflow, which the agent starts, writes for them. Reports of nodes
// the catalog does not know are skipped and named in the result. Without
// reports it is the agent's periodic renewal of its host's liveness lease
// (contract.HostLease): RegisterHost stamps the host's last-seen time.
func NodeCheckIn(ctx workflow.Context, in contract.NodeCheckInInput) (res contract.NodeCheckInResult, err error) {
	ctx = withControl(ctx)
	reg := contract.RegisterHostInput{Host: in.Host, TaskQueue: in.TaskQueue}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityRegisterHost, reg).Get(ctx, nil); err != nil {
		return res, err
	}
	if len(in.Reports) == 0 {
		return res, nil
	}
	var rec contract.RecordNodeReportsResult
	record := contract.RecordNodeReportsInput{Reports: in.Reports}
	err = workflow.ExecuteActivity(ctx, contract.ActivityRecordNodeReports, record).Get(ctx, &rec)
	return contract.NodeCheckInResult(rec), err
}
