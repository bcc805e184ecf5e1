package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/kprecords"
)

func TestApprovalVerdict_OnlyAnotherIAMIDsFreshAuthorizationCounts(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	in := contract.VerifyApprovalInput{RequesterIAMID: "IBMid-alice", NotBefore: now.Add(-time.Hour), Comment: "c"}
	set := kprecords.DeletionAuthorization{PolicyEnabled: true, SetForDeletion: true, AuthExpiration: now.Add(time.Hour)}
	act := func(who string, at time.Duration, outcome string) kprecords.Activity {
		return kprecords.Activity{IAMID: who, Time: now.Add(at), Outcome: outcome, CorrelationID: "corr-" + who,
			Action: kprecords.ActionSetKeyForDeletion}
	}
	tests := []struct {
		name string
		auth kprecords.DeletionAuthorization
		acts []kprecords.Activity
		want string // approver, or the reason's start
	}{
		{"another person", set, []kprecords.Activity{act("IBMid-bob", -time.Minute, "success")}, "IBMid-bob"},
		{"the latest setter counts", set, []kprecords.Activity{act("IBMid-bob", -30*time.Minute, "success"),
			act("IBMid-alice", -time.Minute, "success")}, "Key Protect records the key set for deletion by IBMid-alice"},
		{"requester then another", set, []kprecords.Activity{act("IBMid-alice", -30*time.Minute, "success"),
			act("IBMid-carol", -time.Minute, "success")}, "IBMid-carol"},
		{"a failed call is no approval", set, []kprecords.Activity{act("IBMid-bob", -time.Minute, "failure")},
			"Key Protect records no setKeyForDeletion"},
		{"older than the request", set, []kprecords.Activity{act("IBMid-bob", -2*time.Hour, "success")},
			"Key Protect records no setKeyForDeletion"},
		{"no policy", kprecords.DeletionAuthorization{SetForDeletion: true},
			[]kprecords.Activity{act("IBMid-bob", -time.Minute, "success")}, "the key has no dual-authorization"},
		{"not set", kprecords.DeletionAuthorization{PolicyEnabled: true},
			[]kprecords.Activity{act("IBMid-bob", -time.Minute, "success")}, "Key Protect does not show the key set"},
		{"expired", kprecords.DeletionAuthorization{PolicyEnabled: true, SetForDeletion: true, AuthExpiration: now.Add(-time.Second)},
			[]kprecords.Activity{act("IBMid-bob", -time.Minute, "success")}, "Key Protect does not show the key set"},
		{"anonymous", set, []kprecords.Activity{act("", -time.Minute, "success")}, "Key Protect records the key set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := approvalVerdict(in, tt.auth, tt.acts, now)
			if why != "" {
				require.Contains(t, why, tt.want)
				require.Empty(t, got.ApproverIAMID)
				return
			}
			require.Equal(t, contract.ShredApproval{RequesterIAMID: "IBMid-alice", ApproverIAMID: tt.want,
				SetForDeletionAt: now.Add(-time.Minute), AuthExpiration: now.Add(time.Hour),
				CorrelationID: "corr-" + tt.want, Comment: "c"}, got)
		})
	}
}

// The approval activities against Key Protect (the emulator) with the real
// clients: only the approver's own setKeyForDeletion proves the approval.
func TestVerifyApproval_OnlyTheApproversAuthorizationCounts(t *testing.T) {
	h := newCatalogHarness(t)
	key := h.rootKey("orders-root").ID
	h.instanceOn("orders-db", key)
	ctx := context.Background()
	var prep, again contract.PrepareApprovalResult
	prepare := contract.PrepareApprovalInput{InstanceID: "orders-db", RootKeyID: key}
	require.NoError(t, h.run(contract.ActivityPrepareApproval, prepare, &prep))
	require.NoError(t, h.run(contract.ActivityPrepareApproval, prepare, &again))
	require.Equal(t, contract.PrepareApprovalResult{RequesterIAMID: h.emu.Dev.OperatorIAMID, PolicyEnabled: true}, prep)
	require.False(t, again.PolicyEnabled, "the policy is found, not set twice")
	verify := contract.VerifyApprovalInput{InstanceID: "orders-db", RootKeyID: key, RequesterIAMID: prep.RequesterIAMID,
		NotBefore: time.Now().Add(-time.Minute)}

	none := h.run(contract.ActivityVerifyApproval, verify, nil)
	require.NoError(t, h.operator.InitiateDualAuthDelete(ctx, key))
	own := h.run(contract.ActivityVerifyApproval, verify, nil)
	require.NoError(t, h.emu.ApproverClient(t).InitiateDualAuthDelete(ctx, key))
	var approval contract.ShredApproval
	require.NoError(t, h.run(contract.ActivityVerifyApproval, verify, &approval))

	requireTyped(t, none, contract.ErrTypeApprovalNotProven, "Key Protect does not show the key set for deletion")
	requireTyped(t, own, contract.ErrTypeApprovalNotProven, "by "+h.emu.Dev.OperatorIAMID+", the requester's own IAM id")
	require.Equal(t, h.emu.Dev.ApproverIAMID, approval.ApproverIAMID)
	require.Equal(t, h.emu.Dev.OperatorIAMID, approval.RequesterIAMID)
	require.NotEmpty(t, approval.CorrelationID)
	require.WithinDuration(t, time.Now(), approval.SetForDeletionAt, time.Minute)
	require.Equal(t, []string{"instance.create", "instance.active", "shred.approval.requested", "shred.approval.verified"},
		h.auditOps("orders-db"))
}
