package workflows

import (
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// ReconcileKeys reads the state and version of every root key that live
// instances use, one Key Protect call per key, compares them with the
// catalog and reacts per instance (decideReconcile): a newer version →
// RotateRootKey rewrap-only; a disabled key → SuspendInstance; the key
// Active again → ResumeInstance of what it suspended (never an
// operator's suspend); a destroyed key → the instance key_destroyed with
// its nodes locked, resumed if the key is restored, its storage removed
// once Key Protect's restore window is over; Key Protect not answering →
// the nodes report unreachable and keep serving, raised after the grace
// window, never suspended. Each reaction is a child workflow that takes
// the instance's lock itself (a busy instance is skipped this run and
// said so) and an audit event naming what Key Protect answered.
//
// One run's work is bounded: at most MaxReactions children, the rest
// named in Deferred for the next run. A Temporal Schedule runs it.
func ReconcileKeys(ctx workflow.Context, in contract.ReconcileInput) (res contract.ReconcileResult, err error) {
	in = in.WithDefaults()
	ctx, track, err := begin(ctx, contract.OperationReconcile, "", in.Validate())
	if err != nil {
		return res, err
	}
	track.step("list instances")
	var list contract.ListReconcileTargetsResult
	err = workflow.ExecuteActivity(ctx, contract.ActivityListReconcileTargets,
		contract.ListReconcileTargetsInput{}).Get(ctx, &list)
	if err != nil {
		return res, err
	}
	groups := groupByKey(list.Instances)
	keys := readKeys(ctx, groups, track)
	now := workflow.Now(ctx)
	var plans []plan
	budget := in.MaxReactions
	for i, g := range groups {
		kr := contract.ReconcileKeyResult{RootKeyID: g.rootKeyID, KPInstanceID: g.kpInstanceID, Key: keys[i]}
		for _, t := range g.targets {
			kr.Instances = append(kr.Instances, t.InstanceID)
			r := decideReconcile(keys[i], t, now, in.Grace.D())
			if !r.noted() {
				continue
			}
			if r.child() {
				if budget == 0 {
					res.Deferred = append(res.Deferred, t.InstanceID)
					continue
				}
				budget--
			}
			plans = append(plans, plan{target: t, key: keys[i], r: r})
		}
		res.Keys = append(res.Keys, kr)
	}
	track.step(fmt.Sprintf("react on %d instances", len(plans)))
	res.Instances = runPlans(ctx, in, plans)
	track.step("done")
	return res, nil
}

// plan is one instance's reaction to run.
type plan struct {
	target contract.ReconcileTarget
	key    contract.KPKey
	r      reaction
	child  workflow.ChildWorkflowFuture
	id     string
	res    contract.ReconcileInstanceResult
}

// readKeys reads every group's key in parallel, one activity attempt each
// (ReadReconcileKey answers Key Protect's failures as non-authoritative;
// only a failure of the activity itself, say a worker lost, is retried).
func readKeys(ctx workflow.Context, groups []keyGroup, track *tracker) []contract.KPKey {
	track.step(fmt.Sprintf("read %d root keys in Key Protect", len(groups)))
	futures := make([]workflow.Future, len(groups))
	for i, g := range groups {
		in := contract.ReadReconcileKeyInput{RootKeyID: g.rootKeyID, KPInstanceID: g.kpInstanceID}
		futures[i] = workflow.ExecuteActivity(withKeyRead(ctx), contract.ActivityReadReconcileKey, in)
	}
	keys := make([]contract.KPKey, len(groups))
	for i, f := range futures {
		if err := f.Get(ctx, &keys[i]); err != nil {
			keys[i] = contract.KPKey{StateName: "unreachable", Error: errorDetail(err)}
		}
	}
	return keys
}

// withKeyRead is the activity context of ReadReconcileKey: a few attempts
// for the activity's own failures, none of which is a Key Protect answer.
func withKeyRead(ctx workflow.Context) workflow.Context {
	opts := workflow.GetActivityOptions(ctx)
	opts.RetryPolicy = &temporal.RetryPolicy{MaximumAttempts: 3}
	opts.ScheduleToCloseTimeout = 0
	return workflow.WithActivityOptions(ctx, opts)
}

// runPlans records the pre-marks, starts every child at once, then waits
// for each and records what it saw and did.
func runPlans(ctx workflow.Context, in contract.ReconcileInput, plans []plan) []contract.ReconcileInstanceResult {
	out := make([]contract.ReconcileInstanceResult, len(plans))
	run := workflow.GetInfo(ctx).WorkflowExecution.RunID
	for i := range plans {
		p := &plans[i]
		p.res = contract.ReconcileInstanceResult{InstanceID: p.target.InstanceID, RootKeyID: p.target.RootKeyID,
			KeyState: keyStateName(p.key), Action: p.r.action, Reason: p.r.reason, Raised: p.r.raise}
		if !p.r.child() {
			p.res.Outcome = "done"
			continue
		}
		if p.r.action == contract.ReconcileResume && p.r.setState == contract.InstanceActive {
			// A restored key: the instance is active again before it resumes.
			if err := record(ctx, in, *p, "restored: resuming", p.r.setState); err != nil {
				p.res.Outcome = "failed: " + errorDetail(err)
				continue
			}
		}
		p.id = fmt.Sprintf("reconcile-%s-%s-%s", p.r.action, p.target.InstanceID, short(run))
		p.child = startReaction(ctx, in, *p)
		p.res.Child = p.id
	}
	for i := range plans {
		p := &plans[i]
		if p.res.Outcome == "" {
			p.res.Outcome = childOutcome(ctx, p)
		}
		setState := p.r.setState
		if p.r.action == contract.ReconcileResume || p.res.Outcome != "done" {
			setState = "" // set before the resume; a failed suspend leaves the state for the next run
		}
		if err := record(ctx, in, *p, p.res.Outcome, setState); err != nil && p.res.Outcome == "done" {
			p.res.Outcome = "done; not recorded: " + errorDetail(err)
		}
		out[i] = p.res
	}
	return out
}

// short is the first 8 characters of a run id, for child workflow ids.
func short(runID string) string {
	if len(runID) > 8 {
		return runID[:8]
	}
	return runID
}

// startReaction starts p's child workflow, which takes the instance's lock.
// It is abandoned if this run ends first: a suspend stopped half way
// would leave the instance half locked.
func startReaction(ctx workflow.Context, in contract.ReconcileInput, p plan) workflow.ChildWorkflowFuture {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: p.id, TaskQueue: contract.ControlTaskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	})
	id, by, deadline := p.target.InstanceID, requestedBy(in), in.NodeDeadline
	var name string
	var input any
	switch p.r.action {
	case contract.ReconcileRewrap:
		name, input = contract.WorkflowRotateRootKey, contract.RotateInput{InstanceID: id, RewrapOnly: true,
			RequestedBy: by, NodeDeadline: deadline}
	case contract.ReconcileSuspend:
		name, input = contract.WorkflowSuspendInstance, contract.SuspendInput{InstanceID: id, Reason: p.r.reason,
			RequestedBy: by, NodeDeadline: deadline, Cause: p.r.cause}
	case contract.ReconcileResume:
		name, input = contract.WorkflowResumeInstance, contract.ResumeInput{InstanceID: id, RequestedBy: by,
			NodeDeadline: deadline}
	default:
		name, input = contract.WorkflowRemoveKeyDestroyedStorage, contract.RemoveStorageInput{InstanceID: id,
			RootKeyID: p.target.RootKeyID, DeletionDate: p.key.DeletionDate, RequestedBy: by, NodeDeadline: deadline}
	}
	return workflow.ExecuteChildWorkflow(cctx, name, input)
}

func requestedBy(in contract.ReconcileInput) string {
	if in.RequestedBy != "" {
		return in.RequestedBy
	}
	return "byokflow reconciliation"
}

// childOutcome waits for a child: done, skipped (the instance is busy:
// skipReason, as for scheduled work) or failed, with the error's message.
func childOutcome(ctx workflow.Context, p *plan) string {
	err := p.child.Get(ctx, nil)
	if err == nil {
		return "done"
	}
	if reason := skipReason(err, p.id); reason != "" {
		return reason
	}
	return "failed: " + errorDetail(err)
}

// record writes p's audit event and marks.
func record(ctx workflow.Context, in contract.ReconcileInput, p plan, outcome string,
	setState contract.InstanceState) error {
	rec := contract.RecordReconcileInput{InstanceID: p.target.InstanceID, RootKeyID: p.target.RootKeyID,
		KeyState: keyStateName(p.key), Action: p.r.action, Reason: p.r.reason, Outcome: outcome,
		SetState: setState, Unreachable: p.r.unreachable, Reachable: p.r.reachable, Raise: p.r.raise,
		Grace: in.Grace}
	if !p.r.child() {
		rec.Outcome = "done"
	}
	return workflow.ExecuteActivity(ctx, contract.ActivityRecordReconcile, rec).Get(ctx, nil)
}

// RemoveKeyDestroyedStorage removes the storage of an instance whose root
// key Key Protect destroyed longer ago than its restore window: every node
// stops its server, removes its fscrypt key, destroys its key slot and
// deletes its ciphertext (the crypto-shred's node step), and the instance
// is marked shredded. It refuses an instance that is not key_destroyed.
func RemoveKeyDestroyedStorage(ctx workflow.Context, in contract.RemoveStorageInput) (res contract.NodesResult, err error) {
	in.NodeDeadline = contract.ResumeInput{NodeDeadline: in.NodeDeadline}.WithDefaults().NodeDeadline
	invalid := contract.ValidateInstanceName(in.InstanceID)
	ctx, track, unlock, err := beginLocked(ctx, contract.OperationRemoveStorage, in.InstanceID, invalid)
	defer unlock()
	if err != nil {
		return res, err
	}
	inst, err := loadInstance(ctx, in.InstanceID, track)
	if err != nil {
		return res, err
	}
	if inst.State != contract.InstanceKeyDestroyed {
		msg := fmt.Sprintf("remove storage of instance %q: instance is %q, not %q: only the storage of an "+
			"instance whose root key is destroyed is removed", in.InstanceID, inst.State, contract.InstanceKeyDestroyed)
		return res, contract.NewError(contract.ErrTypeInstanceNotActive, msg, nil)
	}
	track.nodes(inst.Nodes)
	reports, err := shredNodes(ctx, contract.ShredInput{InstanceID: in.InstanceID, NodeDeadline: in.NodeDeadline},
		inst.Nodes, track)
	if err != nil {
		return res, err
	}
	track.step("mark instance shredded")
	mark := contract.MarkInstanceShreddedInput{InstanceID: in.InstanceID, RequestedBy: in.RequestedBy}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityMarkInstanceShredded, mark).Get(ctx, nil); err != nil {
		return res, err
	}
	track.step("done")
	return contract.NodesResult{InstanceID: in.InstanceID, Nodes: reports}, nil
}
