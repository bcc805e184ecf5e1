package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/kprecords"
)

// PrepareApproval puts the root key under Key Protect's dual-authorization
// delete policy, unless it is there already, and names the requester: the
// IAM id of the operator identity that will delete the key. Key Protect
// then deletes the key only after a different user set it for deletion,
// which is what proves the second person. The policy stays: a key a
// customer wanted two people for keeps needing two.
func (a *Activities) PrepareApproval(ctx context.Context, in contract.PrepareApprovalInput) (contract.PrepareApprovalResult, error) {
	var res contract.PrepareApprovalResult
	op := a.operatorOp(in.KPInstanceID, "prepare the approval of the deletion of root key", in.RootKeyID)
	keys, err := a.keysFor(in.KPInstanceID, op.subject())
	if err != nil {
		return res, err
	}
	if res.RequesterIAMID, err = a.operatorIAMID(); err != nil {
		return res, fmt.Errorf("%s: %w", op.subject(), err)
	}
	key, err := keys.GetKeyMetadata(ctx, in.RootKeyID)
	if err != nil {
		return res, classifyKP(err, op)
	}
	if d := key.DualAuthDelete; d == nil || d.Enabled == nil || !*d.Enabled {
		if _, err := keys.SetDualAuthDeletePolicy(ctx, in.RootKeyID, true); err != nil {
			return res, classifyKP(err, op)
		}
		res.PolicyEnabled = true
	}
	return res, a.auditOrRetry(ctx, op.subject(), auditEntry{actor: res.RequesterIAMID, operation: "shred.approval.requested",
		instanceID: in.InstanceID, rootKeyID: in.RootKeyID, detail: map[string]any{
			"requesterIamId": res.RequesterIAMID, "dualAuthPolicyEnabledNow": res.PolicyEnabled}})
}

// VerifyApproval checks in Key Protect's own records that a second person
// approved: the key's metadata shows it set for deletion, and Key
// Protect's activity record shows the latest setKeyForDeletion, made at or
// after in.NotBefore, by an IAM id other than the requester's. Anything
// else fails ApprovalNotProven, saying what Key Protect shows.
func (a *Activities) VerifyApproval(ctx context.Context, in contract.VerifyApprovalInput) (contract.ShredApproval, error) {
	op := a.operatorOp(in.KPInstanceID, "verify the approval of the deletion of root key", in.RootKeyID)
	records, err := a.recordsFor(in.KPInstanceID, op.subject())
	if err != nil {
		return contract.ShredApproval{}, err
	}
	auth, err := records.DeletionAuthorization(ctx, in.RootKeyID)
	if err != nil {
		return contract.ShredApproval{}, classifyKP(err, op)
	}
	acts, err := records.Activity(ctx, kprecords.ActivityFilter{KeyID: in.RootKeyID, Action: kprecords.ActionSetKeyForDeletion})
	if err != nil {
		return contract.ShredApproval{}, classifyKP(err, op)
	}
	approval, why := approvalVerdict(in, auth, acts, time.Now())
	if why != "" {
		msg := fmt.Sprintf("%s: %s: the crypto-shred keeps waiting: a second operator runs `starter approve` with "+
			"their own API key (IBMCLOUD_API_KEY), which sets the key for deletion in Key Protect", op.subject(), why)
		return approval, contract.NewError(contract.ErrTypeApprovalNotProven, msg, nil)
	}
	return approval, a.auditOrRetry(ctx, op.subject(), auditEntry{actor: approval.ApproverIAMID,
		operation: "shred.approval.verified", instanceID: in.InstanceID, rootKeyID: in.RootKeyID, detail: map[string]any{
			"requesterIamId": approval.RequesterIAMID, "approverIamId": approval.ApproverIAMID,
			"setForDeletionAt": approval.SetForDeletionAt, "correlationId": approval.CorrelationID}})
}

// approvalVerdict decides from Key Protect's records whether the key's
// deletion is approved by a second person; why says what is missing.
func approvalVerdict(in contract.VerifyApprovalInput, auth kprecords.DeletionAuthorization,
	acts []kprecords.Activity, now time.Time) (contract.ShredApproval, string) {
	approval := contract.ShredApproval{RequesterIAMID: in.RequesterIAMID, Comment: in.Comment}
	if !auth.PolicyEnabled {
		return approval, "the key has no dual-authorization delete policy"
	}
	if !auth.SetForDeletion || (!auth.AuthExpiration.IsZero() && !auth.AuthExpiration.After(now)) {
		return approval, "Key Protect does not show the key set for deletion"
	}
	var last *kprecords.Activity
	for i := range acts {
		if acts[i].Outcome == kprecords.OutcomeSuccess && !acts[i].Time.Before(in.NotBefore) {
			last = &acts[i]
		}
	}
	switch {
	case last == nil:
		return approval, fmt.Sprintf("Key Protect records no setKeyForDeletion of the key since the crypto-shred "+
			"asked for approval (%s)", in.NotBefore.UTC().Format(time.RFC3339))
	case last.IAMID == "" || last.IAMID == in.RequesterIAMID:
		return approval, fmt.Sprintf("Key Protect records the key set for deletion by %s, the requester's own IAM "+
			"id: the two-person rule needs another person", in.RequesterIAMID)
	}
	approval.ApproverIAMID, approval.SetForDeletionAt = last.IAMID, last.Time.UTC()
	approval.AuthExpiration, approval.CorrelationID = auth.AuthExpiration.UTC(), last.CorrelationID
	return approval, ""
}

// operatorIAMID is the IAM id of the operator identity, the one Key
// Protect sees on the control plane's calls.
func (a *Activities) operatorIAMID() (string, error) {
	if a.iamIDs == nil {
		return "", fmt.Errorf("no IAM identity is configured to name the operator")
	}
	return a.iamIDs(false)
}
