package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// awaitApproval waits, when the input asks for it, for SignalApprove from a
// principal other than the requester (the two-person rule), then checks
// the guards again: what depends on the key may have changed meanwhile.
func awaitApproval(ctx workflow.Context, f *shredFacts, track *tracker) error {
	if !f.in.RequireApproval {
		return nil
	}
	who, err := waitForApprover(ctx, f.in, track)
	if err != nil {
		return err
	}
	f.approvedBy = who
	return runGuards(ctx, f, track)
}

// waitForApprover returns the first principal other than the requester who
// approves, or ApprovalExpired when none does before the timeout. A
// rejected approval is noted in progress and the wait goes on.
func waitForApprover(ctx workflow.Context, in contract.ShredInput, track *tracker) (string, error) {
	until := workflow.Now(ctx).Add(in.ApprovalTimeout.D())
	track.step(fmt.Sprintf("waiting for approval: a principal other than %s must send the %q signal before %s",
		in.RequestedBy, contract.SignalApprove, until.UTC().Format(time.RFC3339)))
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	expiry := workflow.NewTimer(timerCtx, in.ApprovalTimeout.D())
	approvals := workflow.GetSignalChannel(ctx, contract.SignalApprove)
	for {
		sig, ok := nextApproval(ctx, approvals, expiry)
		if !ok {
			return "", approvalExpired(in)
		}
		if why := rejectApproval(in.RequestedBy, sig); why != "" {
			track.note(why)
			workflow.GetLogger(ctx).Warn("approval rejected", "instance", in.InstanceID, "reason", why)
			continue
		}
		who := strings.TrimSpace(sig.Principal)
		track.note("approved by " + who)
		return who, nil
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
