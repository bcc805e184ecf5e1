package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func approvedShred() contract.ShredInput {
	in := shredInput()
	in.RequireApproval = true
	return in
}

// approveAt sends an approval by principal after d.
func (h *harness) approveAt(d time.Duration, principal string) {
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(contract.SignalApprove, contract.ApproveSignal{Principal: principal})
	}, d)
}

// at runs fn after d, with the activities started so far and the progress.
func (h *harness) at(d time.Duration, fn func(calls []string, p contract.Progress)) {
	h.env.RegisterDelayedCallback(func() { fn(h.calls(), h.queryProgress()) }, d)
}

func TestShred_ApprovalByAnotherPrincipalProceeds(t *testing.T) {
	h := newHarness(t)
	h.mockShred()
	var waiting contract.Progress
	var before []string
	h.at(time.Hour, func(calls []string, p contract.Progress) { before, waiting = calls, p })
	h.approveAt(2*time.Hour, "bob")

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, approvedShred())

	res := h.shredResult()
	require.Equal(t, shredChecks, before, "nothing is destroyed while waiting")
	require.True(t, strings.HasPrefix(waiting.Step, "waiting for approval: a principal other than alice must send "+
		`the "approve" signal before 2030-01-03T03:04:05Z`), waiting.Step)
	require.Equal(t, "bob", res.Certificate.ApprovedBy)
	require.Equal(t, "alice", res.Certificate.RequestedBy)
	require.Equal(t, concat(shredChecks, []string{contract.ActivityCheckShredGuards, contract.ActivityWrapProbe},
		destroySteps, keyDeletion, certification), h.calls(), "the guards are checked again after the wait")
	require.Equal(t, []string{"approved by bob"}, h.queryProgress().Notes)
}

func TestShred_SamePrincipalRejectedThenOtherApproves(t *testing.T) {
	h := newHarness(t)
	h.mockShred()
	h.approveAt(time.Hour, "alice")
	h.approveAt(90*time.Minute, " ")
	var mid contract.Progress
	var midCalls []string
	h.at(2*time.Hour, func(calls []string, p contract.Progress) { midCalls, mid = calls, p })
	h.approveAt(3*time.Hour, "carol")

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, approvedShred())

	res := h.shredResult()
	require.Equal(t, shredChecks, midCalls, "a rejected approval destroys nothing")
	require.Contains(t, mid.Step, "waiting for approval")
	require.Equal(t, []string{"rejected the approval by alice: the requester cannot approve their own crypto-shred; " +
		"still waiting for approval by another principal",
		"rejected an approval that names no principal; still waiting for approval"}, mid.Notes)
	require.Equal(t, "carol", res.Certificate.ApprovedBy)
	require.Equal(t, t0.Add(3*time.Hour), res.Certificate.CompletedAt)
}

func TestShred_ApprovalExpires(t *testing.T) {
	h := newHarness(t)
	h.mockShred()
	h.approveAt(time.Hour, "alice")

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, approvedShred())

	require.Equal(t, contract.ErrTypeApprovalExpired, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), `shred instance "orders-db": no principal other than alice `+
		"approved within 24h0m0s; nothing was destroyed")
	require.Equal(t, shredChecks, h.calls())
	require.True(t, t0.Add(contract.DefaultApprovalTimeout).Equal(h.env.Now()), "expired at the timeout, not before")
}

func TestShred_ApprovalNeedsANamedRequester(t *testing.T) {
	h := newHarness(t)
	in := approvedShred()
	in.RequestedBy = ""

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, in)

	require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), "name the requester")
	require.Empty(t, h.calls())
}

// mockDualAuth makes the key a dual-auth key whose deletion Key Protect
// refuses until a second user authorizes it at authorizedAt (never when 0).
func (h *harness) mockDualAuth(authorizedAt time.Duration) {
	h.on(contract.ActivityGetKeyState, func(context.Context, contract.GetKeyStateInput) (contract.RootKeyState, error) {
		s := keyState(contract.KPStateActive, "Active")
		s.DualAuthDelete = true
		return s, nil
	}).Once()
	h.on(contract.ActivityDeleteRootKey, func(context.Context, contract.DeleteRootKeyInput) (contract.DeleteRootKeyResult, error) {
		if authorizedAt == 0 || h.env.Now().Before(t0.Add(authorizedAt)) {
			return contract.DeleteRootKeyResult{}, contract.NewRetryableError(contract.RetryTypeDualAuthPending,
				"delete root key orders-root: waiting for the second authorization of the key deletion", nil)
		}
		return contract.DeleteRootKeyResult{}, nil
	})
}

func TestShred_DualAuthKeyWaitsForTheSecondAuthorization(t *testing.T) {
	h := newHarness(t)
	h.mockDualAuth(3 * time.Hour)
	h.mockShred()
	var waiting contract.Progress
	h.at(2*time.Hour, func(_ []string, p contract.Progress) { waiting = p })

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

	res := h.shredResult()
	require.True(t, res.KeyDeleted)
	require.Equal(t, "delete root key orders-root: waiting for the second authorization of the key deletion: a second "+
		"user must approve (ibmcloud kp key schedule-delete orders-root / set for deletion)", waiting.Step)
	require.Greater(t, countOf(h.calls(), contract.ActivityDeleteRootKey), 3, "retried with backoff")
	require.Less(t, countOf(h.calls(), contract.ActivityDeleteRootKey), 30, "with long backoff, not in a tight loop")
	require.False(t, h.env.Now().Before(t0.Add(3*time.Hour)), "deleted once the second user authorized")
	require.Contains(t, h.calls(), contract.ActivityWriteShredCertificate)
}

func TestShred_DualAuthNeverAuthorizedExpires(t *testing.T) {
	h := newHarness(t)
	h.mockDualAuth(0)
	h.mockShred()
	in := shredInput()
	in.ApprovalTimeout = contract.Duration(2 * time.Hour)

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, in)

	require.Equal(t, contract.ErrTypeApprovalExpired, h.workflowErrType())
	err := h.env.GetWorkflowError()
	require.ErrorContains(t, err, `delete root key orders-root of instance "orders-db": no second user authorized the deletion within 2h0m0s`)
	require.ErrorContains(t, err, "the node keys are destroyed and the nodes' ciphertext deleted, the root key is not")
	require.ErrorContains(t, err, "`ibmcloud kp key schedule-delete orders-root`, then run the crypto-shred again to finish it")
	require.NotContains(t, h.calls(), contract.ActivityProveKeyDestroyed)
	require.NotContains(t, h.calls(), contract.ActivityMarkInstanceShredded)
}

func countOf(calls []string, name string) int {
	n := 0
	for _, c := range calls {
		if c == name {
			n++
		}
	}
	return n
}
