package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"

	"github.com/byokflow/byokflow/contract"
)

func approvedShred() contract.ShredInput {
	in := shredInput()
	in.RequireApproval = true
	return in
}

// approveAt sends an approval naming principal after d.
func (h *harness) approveAt(d time.Duration, principal string) {
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(contract.SignalApprove, contract.ApproveSignal{Principal: principal, Comment: "ticket 7"})
	}, d)
}

// at runs fn after d, with the activities started so far and the progress.
func (h *harness) at(d time.Duration, fn func(calls []string, p contract.Progress)) {
	h.env.RegisterDelayedCallback(func() { fn(h.calls(), h.queryProgress()) }, d)
}

const requesterIAM, approverIAM = "IBMid-alice", "IBMid-bob"

// mockApproval makes Key Protect prove an approval by approverIAM from
// provenAt on (never when 0); before, VerifyApproval fails
// ApprovalNotProven.
func (h *harness) mockApproval(provenAt time.Duration) {
	h.on(contract.ActivityPrepareApproval, contract.PrepareApprovalResult{RequesterIAMID: requesterIAM}, nil)
	h.on(contract.ActivityVerifyApproval, func(_ context.Context, in contract.VerifyApprovalInput) (contract.ShredApproval, error) {
		if provenAt == 0 || h.env.Now().Before(t0.Add(provenAt)) {
			return contract.ShredApproval{}, contract.NewError(contract.ErrTypeApprovalNotProven,
				"Key Protect records the key set for deletion by IBMid-alice, the requester's own IAM id", nil)
		}
		return contract.ShredApproval{RequesterIAMID: in.RequesterIAMID, ApproverIAMID: approverIAM,
			SetForDeletionAt: h.env.Now(), Comment: in.Comment}, nil
	})
}

var approvalChecks = concat(shredChecks, []string{contract.ActivityPrepareApproval})

func TestShred_ApprovalProvenByKeyProtectProceeds(t *testing.T) {
	h := newHarness(t)
	h.mockApproval(time.Minute)
	h.mockShred()
	var waiting contract.Progress
	var before []string
	var state contract.ApprovalState
	h.at(time.Hour, func(calls []string, p contract.Progress) {
		before, waiting = calls, p
		v, err := h.env.QueryWorkflow(contract.QueryApproval)
		require.NoError(t, err)
		require.NoError(t, v.Get(&state))
	})
	h.approveAt(2*time.Hour, "IBMid-bob")

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, approvedShred())

	res := h.shredResult()
	require.Equal(t, approvalChecks, before, "nothing is destroyed while waiting")
	require.True(t, strings.HasPrefix(waiting.Step, "waiting for approval: a second operator (not IBMid-alice) runs "+
		"`starter approve --workflow default-test-workflow-id` with their own API key before 2030-01-03T03:04:05Z"), waiting.Step)
	require.Equal(t, contract.ApprovalState{Waiting: true, RootKeyID: rootKeyID, KPInstanceID: kpInstance,
		RequesterIAMID: requesterIAM, Until: t0.Add(contract.DefaultApprovalTimeout)}, state)
	require.Equal(t, approverIAM, res.Certificate.ApprovedBy)
	require.Equal(t, &contract.ShredApproval{RequesterIAMID: requesterIAM, ApproverIAMID: approverIAM,
		SetForDeletionAt: t0.Add(2 * time.Hour), Comment: "ticket 7"}, res.Certificate.Approval)
	require.Equal(t, concat(approvalChecks, []string{contract.ActivityVerifyApproval, contract.ActivityCheckShredGuards,
		contract.ActivityWrapProbe}, destroySteps, keyDeletion, certification), h.calls(),
		"the guards are checked again after the wait")
	require.Equal(t, []string{"approved by IBMid-bob (proven by Key Protect)"}, h.queryProgress().Notes)
	h.env.AssertActivityCalled(t, contract.ActivityVerifyApproval, mock.Anything, contract.VerifyApprovalInput{
		InstanceID: instanceID, RootKeyID: rootKeyID, KPInstanceID: kpInstance, RequesterIAMID: requesterIAM,
		NotBefore: t0.Add(-time.Minute), Comment: "ticket 7"})
}

func TestShred_UnprovenApprovalKeepsWaiting(t *testing.T) {
	h := newHarness(t)
	h.mockApproval(150 * time.Minute)
	h.mockShred()
	h.approveAt(time.Hour, "IBMid-bob")
	var mid contract.Progress
	var midCalls []string
	h.at(2*time.Hour, func(calls []string, p contract.Progress) { midCalls, mid = calls, p })
	h.approveAt(3*time.Hour, "IBMid-bob")

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, approvedShred())

	res := h.shredResult()
	require.Equal(t, concat(approvalChecks, []string{contract.ActivityVerifyApproval}), midCalls,
		"an approval Key Protect does not prove destroys nothing")
	require.Contains(t, mid.Step, "waiting for approval")
	require.Equal(t, []string{"approval by IBMid-bob not proven: Key Protect records the key set for deletion by " +
		"IBMid-alice, the requester's own IAM id"}, mid.Notes)
	require.Equal(t, approverIAM, res.Certificate.ApprovedBy)
	require.Equal(t, t0.Add(3*time.Hour), res.Certificate.CompletedAt)
}

func TestShred_ApprovalExpires(t *testing.T) {
	h := newHarness(t)
	h.mockApproval(0)
	h.mockShred()
	h.approveAt(time.Hour, "IBMid-alice")

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, approvedShred())

	require.Equal(t, contract.ErrTypeApprovalExpired, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), `shred instance "orders-db": Key Protect shows no approval by an IAM id `+
		"other than IBMid-alice within 24h0m0s; nothing was destroyed")
	require.Equal(t, concat(approvalChecks, []string{contract.ActivityVerifyApproval}), h.calls())
	require.True(t, t0.Add(contract.DefaultApprovalTimeout).Equal(h.env.Now()), "expired at the timeout, not before")
}

func TestShred_ApprovalWithKeptRootKeyIsRefused(t *testing.T) {
	h := newHarness(t)
	in := approvedShred()
	in.KeepRootKey = true

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, in)

	require.Equal(t, contract.ErrTypeInvalidInput, h.workflowErrType())
	require.ErrorContains(t, h.env.GetWorkflowError(), "--keep-root-key deletes no root key, so nothing could prove")
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
	h.on(contract.ActivityDeleteRootKey, func(ctx context.Context, _ contract.DeleteRootKeyInput) (contract.DeleteRootKeyResult, error) {
		if authorizedAt == 0 || h.env.Now().Before(t0.Add(authorizedAt)) {
			return contract.DeleteRootKeyResult{}, contract.NewDualAuthPending(
				"delete root key orders-root: waiting for the second authorization of the key deletion",
				activity.GetInfo(ctx).Attempt)
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

// A deletion attempt lost to a dead worker is retried at once: only Key
// Protect's refusal for want of the second authorization waits minutes.
func TestShred_KeyDeletionRetriesALostAttemptAtOnce(t *testing.T) {
	h := newHarness(t)
	var at []time.Time
	h.on(contract.ActivityDeleteRootKey, func(ctx context.Context, _ contract.DeleteRootKeyInput) (contract.DeleteRootKeyResult, error) {
		at = append(at, h.env.Now())
		if activity.GetInfo(ctx).Attempt == 1 {
			return contract.DeleteRootKeyResult{}, contract.NewRetryableError(contract.RetryTypeAttemptAbandoned,
				"run activity attempt: the worker running it died", nil)
		}
		return contract.DeleteRootKeyResult{}, nil
	})
	h.mockShred()

	h.env.ExecuteWorkflow(contract.WorkflowCryptoShred, shredInput())

	require.True(t, h.shredResult().KeyDeleted)
	require.Len(t, at, 2)
	require.LessOrEqual(t, at[1].Sub(at[0]), 2*time.Second, "the lost attempt retried at the usual pace")
}
