package contract

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

func TestBackupID_InstanceAndUTCMillisecond(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("CET", 3600))

	id := BackupID("orders-db", at)

	require.Equal(t, "orders-db-20300102T020405.678", id)
	require.NoError(t, ValidateBackupID(id))
	require.NotEqual(t, id, BackupID("orders-db", at.Add(time.Millisecond)), "two backups in one second differ")
}

func TestValidateBackupID_Cases(t *testing.T) {
	for id, ok := range map[string]bool{
		"orders-db-20300102T030405": true, "nightly.1": true, "B_2": true,
		"": false, "../etc/passwd": false, "a/b": false, "-lead": false, "with space": false,
	} {
		err := ValidateBackupID(id)
		if ok {
			require.NoError(t, err, id)
			continue
		}
		require.ErrorContains(t, err, "validate backup id", id)
	}
}

func TestBackupInput_DefaultsAndValidate(t *testing.T) {
	in := BackupInput{InstanceID: "orders-db"}.WithDefaults()
	require.Equal(t, DefaultNodeDeadline, in.NodeDeadline.D())
	require.NoError(t, in.Validate())
	require.ErrorContains(t, BackupInput{InstanceID: "X"}.WithDefaults().Validate(), "instance name")
}

func TestRestoreInput_ValidateReportsEveryProblem(t *testing.T) {
	valid := RestoreInput{BackupID: "orders-db-20300102T030405", InstanceID: "orders-copy", RootKeyID: "copy-root",
		AdminVerifier: testVerifier}.WithDefaults()
	require.NoError(t, valid.Validate())
	require.Equal(t, DefaultNodes, valid.Nodes)
	require.Equal(t, DefaultNodeDeadline, valid.NodeDeadline.D())

	bad := RestoreInput{BackupID: "a/b", InstanceID: "X", RootKeyID: "", KPInstanceID: "kp", Nodes: 12}.WithDefaults()
	err := bad.Validate()
	for _, want := range []string{"backup id", "instance name", "root key id", "key protect instance id", "node count"} {
		require.ErrorContains(t, err, want)
	}
}

func TestRestoreInput_ProvisionInput(t *testing.T) {
	in := RestoreInput{BackupID: "b", InstanceID: "orders-copy", RootKeyID: "copy-root", Nodes: 2,
		CreateAuthorization: true, RequestedBy: "alice", NodeDeadline: Duration(time.Hour), AdminVerifier: testVerifier}

	require.Equal(t, ProvisionInput{InstanceID: "orders-copy", RootKeyID: "copy-root",
		KPInstanceID: "9b7c1a2e-1111-4a2b-8c3d-0123456789ab", Nodes: 2, CreateAuthorization: true,
		RequestedBy: "alice", NodeDeadline: Duration(time.Hour), AdminVerifier: testVerifier, AwaitData: true}, in.Provision("9b7c1a2e-1111-4a2b-8c3d-0123456789ab"))
}

func TestShredInput_DefaultsAndValidate(t *testing.T) {
	in := ShredInput{InstanceID: "orders-db"}.WithDefaults()
	require.Equal(t, 24*time.Hour, in.ApprovalTimeout.D())
	require.Equal(t, DefaultNodeDeadline, in.NodeDeadline.D())
	require.NoError(t, in.Validate())

	err := ShredInput{InstanceID: "orders-db", RequireApproval: true, ApprovalTimeout: Duration(time.Second)}.WithDefaults().Validate()
	require.ErrorContains(t, err, "validate approval timeout 1s: give at least 1m")
	require.NoError(t, ShredInput{InstanceID: "orders-db", RequireApproval: true}.WithDefaults().Validate(),
		"Key Protect, not a name, identifies the requester")
	kept := ShredInput{InstanceID: "orders-db", RequireApproval: true, KeepRootKey: true}.WithDefaults().Validate()
	require.ErrorContains(t, kept, "--keep-root-key deletes no root key, so nothing could prove a second person's approval")
}

func TestNewRetryableError_IsRetriedAndTyped(t *testing.T) {
	err := NewRetryableError(RetryTypeDualAuthPending, "delete root key k: waiting", nil)

	require.Equal(t, RetryTypeDualAuthPending, ErrorType(err))
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.False(t, appErr.NonRetryable())
	require.NotContains(t, NonRetryableErrorTypes(), RetryTypeDualAuthPending)
}

func TestDualAuthRetryDelay_AMinuteDoublingToFifteen(t *testing.T) {
	var got []time.Duration
	for attempt := int32(1); attempt <= 6; attempt++ {
		got = append(got, DualAuthRetryDelay(attempt))
	}
	require.Equal(t, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		15 * time.Minute, 15 * time.Minute}, got)
}
