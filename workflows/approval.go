package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// approvalSlack is how much earlier than the start of the wait an
// approval recorded by Key Protect still counts, for clock skew between
// Key Protect and the worker.
const approvalSlack = time.Minute

// awaitApproval, when the input asks for it, puts the root key under Key
// Protect's dual-authorization delete policy and waits until Key Protect
// shows the key set for deletion by an IAM id other than the requester's
// (the operator identity that will delete it): the two-person rule,
// proven by Key Protect. Then it checks the guards again: what depends on
// the key may have changed meanwhile.
func awaitApproval(ctx workflow.Context, f *shredFacts, track *tracker) error {
	if !f.in.RequireApproval {
		return nil
	}
	state := contract.ApprovalState{RootKeyID: f.inst.RootKeyID, KPInstanceID: f.inst.KPInstanceID}
	if err := workflow.SetQueryHandler(ctx, contract.QueryApproval, func() (contract.ApprovalState, error) {
		return state, nil
	}); err != nil {
		return err
	}
	track.step("put root key " + f.inst.RootKeyID + " under Key Protect's dual-authorization delete policy")
	var prep contract.PrepareApprovalResult
	in := contract.PrepareApprovalInput{InstanceID: f.in.InstanceID, RootKeyID: f.inst.RootKeyID,
		KPInstanceID: f.inst.KPInstanceID}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityPrepareApproval, in).Get(ctx, &prep); err != nil {
		return err
	}
	state.RequesterIAMID = prep.RequesterIAMID
	state.Until = workflow.Now(ctx).Add(f.in.ApprovalTimeout.D())
	state.Waiting = true
	approval, err := waitForApprover(ctx, f, state, track)
	state.Waiting = false
	if err != nil {
		return err
	}
	f.approval, f.approvedBy = &approval, approval.ApproverIAMID
	return runGuards(ctx, f, track)
}

// waitForApprover waits for approve signals and has Key Protect's records
// checked on each, until one proves a second person's approval, or fails
// ApprovalExpired when none does before the timeout. An approval Key
// Protect does not prove is noted in progress and the wait goes on.
func waitForApprover(ctx workflow.Context, f *shredFacts, state contract.ApprovalState, track *tracker) (
	contract.ShredApproval, error) {
	track.step(fmt.Sprintf("waiting for approval: a second operator (not %s) runs `starter approve --workflow %s` "+
		"with their own API key before %s", state.RequesterIAMID, workflow.GetInfo(ctx).WorkflowExecution.ID,
		state.Until.UTC().Format(time.RFC3339)))
	notBefore := workflow.Now(ctx).Add(-approvalSlack)
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	expiry := workflow.NewTimer(timerCtx, f.in.ApprovalTimeout.D())
	approvals := workflow.GetSignalChannel(ctx, contract.SignalApprove)
	for {
		sig, ok := nextApproval(ctx, approvals, expiry)
		if !ok {
			return contract.ShredApproval{}, approvalExpired(f.in, state.RequesterIAMID)
		}
		verify := contract.VerifyApprovalInput{InstanceID: f.in.InstanceID, RootKeyID: state.RootKeyID,
			KPInstanceID: state.KPInstanceID, RequesterIAMID: state.RequesterIAMID, NotBefore: notBefore,
			Comment: sig.Comment}
		var approval contract.ShredApproval
		err := workflow.ExecuteActivity(ctx, contract.ActivityVerifyApproval, verify).Get(ctx, &approval)
		if contract.ErrorType(err) == contract.ErrTypeApprovalNotProven {
			track.note("approval by " + sig.Principal + " not proven: " + errorDetail(err))
			workflow.GetLogger(ctx).Warn("approval not proven", "instance", f.in.InstanceID, "principal", sig.Principal)
			continue
		}
		if err != nil {
			return approval, err
		}
		track.note("approved by " + approval.ApproverIAMID + " (proven by Key Protect)")
		return approval, nil
	}
}

// nextApproval waits for the next approval signal; ok is false when the
// expiry timer fired first.
func nextApproval(ctx workflow.Context, approvals workflow.ReceiveChannel, expiry workflow.Future) (
	sig contract.ApproveSignal, ok bool) {
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(approvals, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, &sig)
		ok = true
	})
	sel.AddFuture(expiry, func(workflow.Future) {})
	sel.Select(ctx)
	return sig, ok
}
