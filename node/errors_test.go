package node

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
)

func TestClassify_MapsKeyWrapperErrors(t *testing.T) {
	n := nodeRef{InstanceID: "orders-db", NodeID: "orders-db-1"}
	cases := []struct {
		cause     error
		state     contract.KeyState
		errType   string
		flush     bool
		retryable bool
		says      string
	}{
		{encryption.ErrRootKeyDestroyed, contract.KeyDestroyed, contract.ErrTypeKeyDestroyed, true, false, "unrecoverable"},
		{encryption.ErrRootKeySuspended, contract.KeySuspended, contract.ErrTypeKeySuspended, true, false, "enable it"},
		{encryption.ErrNotAuthorized, contract.KeyError, contract.ErrTypeServiceNotAuthorized, false, false, "authorization policy"},
		{encryption.ErrRootKeyNotFound, contract.KeyError, contract.ErrTypeKeyNotFound, false, false, "BYOK_KP_INSTANCE_ID"},
		{encryption.ErrInvalidCiphertext, contract.KeyError, contract.ErrTypeKeySlotInvalid, false, false, "drop the node's key slot"},
		{errCheckValueMismatch, contract.KeyError, contract.ErrTypeKeySlotInvalid, false, false, "check value"},
		{encryption.ErrKMSUnavailable, contract.KeyUnreachable, "", false, true, "will retry"},
		{errors.New("something else"), contract.KeyError, "", false, true, "something else"},
	}
	for _, c := range cases {
		t.Run(c.cause.Error(), func(t *testing.T) {
			f := classify("install key", n, "root-key-1", fmt.Errorf("wrap: %w", c.cause))
			require.Equal(t, c.state, f.state)
			require.Equal(t, c.flush, f.flush)
			require.Equal(t, c.errType, contract.ErrorType(f.err))
			var appErr *temporal.ApplicationError
			require.Equal(t, !c.retryable, errors.As(f.err, &appErr) && appErr.NonRetryable())
			require.ErrorIs(t, f.err, c.cause)
			msg := detailOf(f.err)
			require.Contains(t, msg, "install key of node orders-db-1 of instance orders-db")
			require.Contains(t, msg, c.says)
		})
	}
}

func TestSlotError_CorruptIsPermanentIOIsRetried(t *testing.T) {
	n := nodeRef{InstanceID: "orders-db", NodeID: "orders-db-1"}
	corrupt := slotError("rewrap key", n, fmt.Errorf("load: %w", ErrSlotCorrupt))
	require.Equal(t, contract.ErrTypeKeySlotInvalid, contract.ErrorType(corrupt))
	io := slotError("rewrap key", n, errors.New("disk on fire"))
	require.Equal(t, "", contract.ErrorType(io))
	require.ErrorContains(t, io, "rewrap key of node orders-db-1 of instance orders-db: disk on fire")
}

func TestValidateHost_Pattern(t *testing.T) {
	for _, ok := range []string{"host-a", "a", "0node", "abcdefghijklmnopqrstuvwxyz01234"} {
		require.NoError(t, ValidateHost(ok), ok)
	}
	for _, bad := range []string{"", "-a", "Host", "host_a", "host.a", "abcdefghijklmnopqrstuvwxyz012345"} {
		require.ErrorContains(t, ValidateHost(bad), "lower-case", bad)
	}
}
