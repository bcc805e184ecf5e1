package node

import (
	"errors"
	"os"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

// newHarnessWithoutClientRetries is newHarness with the Key Protect client's
// own retries of 5xx answers turned off, so an outage fails fast. It must
// not run in parallel: kp.RetryMax is a package variable.
func newHarnessWithoutClientRetries(t *testing.T) *harness {
	saved := kp.RetryMax
	kp.RetryMax = 0
	t.Cleanup(func() { kp.RetryMax = saved })
	return newHarness(t)
}

func requireRetryable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		require.False(t, appErr.NonRetryable(), "want a retryable error, got %v", err)
	}
	require.NotContains(t, contract.NonRetryableErrorTypes(), contract.ErrorType(err))
}

func TestInstallKey_KeyProtectUnreachableIsRetriedAndLeavesNoSlot(t *testing.T) {
	h := newHarnessWithoutClientRetries(t)
	h.mustInstall("orders-db-1") // caches the service identity's IAM token
	h.emu.Server.SetFaults(emulator.Faults{}.OutageFor(time.Now(), time.Hour))

	_, err := h.execute(contract.ActivityInstallKey, contract.InstallKeyInput{InstanceID: testInstance,
		NodeID: "orders-db-2", RootKeyID: h.rootKey, AAD: contract.NodeAAD(testInstance, "orders-db-2")})
	requireRetryable(t, err)
	require.ErrorContains(t, err, "Key Protect unreachable")
	_, statErr := os.Stat(slotPath(h.dataDir, testInstance, "orders-db-2"))
	require.ErrorIs(t, statErr, os.ErrNotExist)
	require.True(t, isNotExist(h.agent.dirsOf(nodeRef{InstanceID: testInstance, NodeID: "orders-db-2"}).root),
		"no directory for a key never wrapped")
}

func TestRewrapKey_KeyProtectUnreachableKeepsDEKAndSlot(t *testing.T) {
	h := newHarnessWithoutClientRetries(t)
	h.mustInstall("orders-db-1")
	dek := h.liveDEK("orders-db-1").dek
	target := h.rotate()
	slotBefore := h.slotFile("orders-db-1")
	h.emu.Server.SetFaults(emulator.Faults{}.OutageFor(time.Now(), time.Hour))

	_, err := h.rewrap("orders-db-1", target)
	requireRetryable(t, err)
	require.False(t, dek.Destroyed(), "the grace window keeps the DEK")
	require.Equal(t, slotBefore, h.slotFile("orders-db-1"))
	require.Equal(t, contract.KeyPending, h.status("orders-db-1").State, "the DEK in memory needs no Key Protect")

	h.emu.Server.SetFaults(emulator.Faults{}) // Key Protect is back: the retry succeeds
	rep, err := h.rewrap("orders-db-1", target)
	require.NoError(t, err)
	require.Equal(t, target, rep.KeyVersionID)
}
