package workflows

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func TestCheckShreddable_States(t *testing.T) {
	tests := []struct {
		state contract.InstanceState
		nodes []contract.NodePlacement
		want  string
	}{
		{contract.InstanceActive, nodes, ""},
		{contract.InstanceShredding, nodes, ""},
		{contract.InstanceFailed, nodes, ""},
		{contract.InstanceFailed, nil, ""},
		{contract.InstanceActive, nil, contract.ErrTypeNoNodeHosts},
		{contract.InstanceShredded, nodes, contract.ErrTypeInstanceNotActive},
		{contract.InstancePending, nodes, contract.ErrTypeInstanceNotActive},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d nodes", tt.state, len(tt.nodes)), func(t *testing.T) {
			err := checkShreddable(instanceID, contract.LoadInstanceResult{State: tt.state, Nodes: tt.nodes})
			require.Equal(t, tt.want, contract.ErrorType(err), "%v", err)
		})
	}
	err := checkShreddable(instanceID, contract.LoadInstanceResult{State: contract.InstanceShredded})
	require.ErrorContains(t, err, `shred instance "orders-db": it is already shredded: its shred certificate is in the catalog`)
}

func TestBackupsToRewrap_SkipsDoneAndOtherKeys(t *testing.T) {
	other := backupRecord("b4", "v1")
	other.RootKeyID = "another-root"
	in := []contract.BackupRecord{backupRecord("b1", "v1"), backupRecord("b2", "v2"), other, backupRecord("b3", "v0")}

	got := backupsToRewrap(in, rootKeyID, "v2")

	require.Equal(t, []contract.BackupRecord{backupRecord("b1", "v1"), backupRecord("b3", "v0")}, got)
	require.Len(t, in, 4, "the input is not changed")
}

func TestShredStatement_KeptKeyWithoutBackups(t *testing.T) {
	c := contract.ShredCertificate{InstanceID: instanceID, RootKeyID: rootKeyID, Key: contract.RootKeyState{StateName: "Suspended"},
		Nodes: make([]contract.NodeReport, 2)}

	require.Equal(t, "The 2 nodes of instance orders-db stopped their servers, removed their fscrypt keys, "+
		"zeroized their data encryption keys and deleted their ciphertext; root key orders-root was kept "+
		"(Key Protect state Suspended), so only the node keys were destroyed.", shredStatement(c))
}

func TestKeyDeletionError_OnlyTheEndOfTheDualAuthWait(t *testing.T) {
	in := contract.ShredInput{InstanceID: instanceID, ApprovalTimeout: contract.Duration(time.Hour)}
	pending := contract.NewRetryableError(contract.RetryTypeDualAuthPending, "waiting", nil)
	other := typedErr(contract.ErrTypeKeyDeletionBlocked)

	require.NoError(t, keyDeletionError(nil, in, rootKeyID))
	require.Same(t, other, keyDeletionError(other, in, rootKeyID))
	expired := keyDeletionError(fmt.Errorf("activity: %w", pending), in, rootKeyID)
	require.Equal(t, contract.ErrTypeApprovalExpired, contract.ErrorType(expired))
	require.ErrorContains(t, expired, "no second user authorized the deletion within 1h0m0s")
}

func TestChildError_UnwrapsTheApplicationError(t *testing.T) {
	app := typedErr(contract.ErrTypeInstanceExists)
	wrapped := fmt.Errorf("child workflow: %w", app)
	plain := errors.New("plain")

	require.Same(t, app, childError(wrapped))
	require.Same(t, plain, childError(plain))
	require.NoError(t, childError(nil))
}
