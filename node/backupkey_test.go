package node

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/encryption"
)

func (h *harness) rewrapBackup(b contract.BackupDatabaseResult, target string) (contract.RewrapBackupKeyResult, error) {
	val, err := h.env.ExecuteActivity(contract.ActivityRewrapBackupKey, contract.RewrapBackupKeyInput{
		BackupID: b.BackupID, RootKeyID: b.RootKeyID, KeyVersionID: b.KeyVersionID, WrappedDEK: b.WrappedDEK,
		AAD: contract.BackupAAD(b.BackupID), TargetVersionID: target})
	var res contract.RewrapBackupKeyResult
	if err == nil {
		require.NoError(h.t, val.Get(&res))
	}
	return res, err
}

// backupCheckValue unwraps backup b's DEK and returns its check value.
func (h *harness) backupCheckValue(b contract.BackupDatabaseResult) string {
	h.t.Helper()
	dek, _, err := h.agent.wrappers.def.UnwrapKey(h.ctx, encryption.WrappedKey{RootKeyID: b.RootKeyID,
		KeyVersion: b.KeyVersionID, Ciphertext: b.WrappedDEK}, contract.BackupAAD(b.BackupID))
	require.NoError(h.t, err)
	defer dek.Destroy()
	kcv, err := dek.CheckValue()
	require.NoError(h.t, err)
	return kcv
}

func TestRewrapBackupKey_AfterRotationMovesToNewVersionWithSameDEK(t *testing.T) {
	t.Parallel()
	h := newDataHarness(t)
	src := h.scratchDB()
	h.fillFixture(h.db(src), 100)
	b := h.mustBackup(src)
	target := h.rotate()

	res, err := h.rewrapBackup(b, target)
	require.NoError(t, err)
	require.Equal(t, target, res.KeyVersionID)
	require.NotEqual(t, b.WrappedDEK, res.WrappedDEK)
	rewrapped := b
	rewrapped.KeyVersionID, rewrapped.WrappedDEK = res.KeyVersionID, res.WrappedDEK
	require.Equal(t, h.backupCheckValue(b), h.backupCheckValue(rewrapped), "same DEK")

	unwraps := h.stats(emulator.OpUnwrap)
	again, err := h.rewrapBackup(rewrapped, target)
	require.NoError(t, err)
	require.Equal(t, res, again, "already under the target: returned as is")
	require.Equal(t, unwraps, h.stats(emulator.OpUnwrap), "without calling Key Protect")

	dst := h.scratchDB()
	_, err = h.restoreDB(restoreInput(rewrapped, h.src, dst))
	require.NoError(t, err)
	require.Equal(t, h.fingerprint(h.db(src)), h.fingerprint(h.db(dst)))
}

func rewrapBackupUnderNewestVersionReturnsItAsIs(t *testing.T, h *harness) {
	b := h.mustBackup(h.scratchDB())
	res, err := h.rewrapBackup(b, "some-other-version")
	require.NoError(t, err)
	require.Equal(t, contract.RewrapBackupKeyResult{KeyVersionID: b.KeyVersionID, WrappedDEK: b.WrappedDEK}, res)
}

func TestBackupKey_DeletedRootKeyIsUnrecoverable(t *testing.T) {
	t.Parallel()
	h := newDataHarness(t)
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(h.db(src), 50)
	b := h.mustBackup(src)
	target := h.rotate()
	_, err := h.operator.DeleteKey(h.ctx, h.rootKey, 0)
	require.NoError(t, err)

	_, err = h.rewrapBackup(b, target)
	requireType(t, err, contract.ErrTypeBackupUnrecoverable, "root key "+h.rootKey+" is destroyed")
	_, err = h.restoreDB(restoreInput(b, h.src, dst))
	requireType(t, err, contract.ErrTypeBackupUnrecoverable,
		"root key "+h.rootKey+" is destroyed; this backup cannot be restored")
	require.Empty(t, h.userTables(dst))
}

func TestRestoreDatabase_DisabledRootKeyIsSuspendedUntilEnabled(t *testing.T) {
	t.Parallel()
	h := newDataHarness(t)
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(h.db(src), 50)
	b := h.mustBackup(src)
	require.NoError(t, h.operator.DisableKey(h.ctx, h.rootKey))

	_, err := h.restoreDB(restoreInput(b, h.src, dst))
	requireType(t, err, contract.ErrTypeKeySuspended, "re-enable root key "+h.rootKey+" and retry")
	require.Empty(t, h.userTables(dst))

	require.NoError(t, h.operator.EnableKey(h.ctx, h.rootKey))
	_, err = h.restoreDB(restoreInput(b, h.src, dst))
	require.NoError(t, err)
	require.Equal(t, h.fingerprint(h.db(src)), h.fingerprint(h.db(dst)))
}

func restoreWrappedDEKOfAnotherBackupIsCorrupt(t *testing.T, h *harness) {
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(h.db(src), 50)
	b := h.mustBackup(src)
	in := restoreInput(b, h.src, dst)
	in.AAD = contract.BackupAAD("bk-someone-else") // the catalog record does not fit the key

	_, err := h.restoreDB(in)
	requireType(t, err, contract.ErrTypeBackupCorrupt, "Key Protect refused the backup's wrapped DEK")
	require.Empty(t, h.userTables(dst))
}

func TestClassifyBackupKey_MapsKeyWrapperErrors(t *testing.T) {
	for _, c := range []struct {
		err      error
		errType  string
		contains string
	}{
		{encryption.ErrRootKeyDestroyed, contract.ErrTypeBackupUnrecoverable, "this backup cannot be restored"},
		{encryption.ErrRootKeySuspended, contract.ErrTypeKeySuspended, "re-enable root key key-1 and retry"},
		{encryption.ErrNotAuthorized, contract.ErrTypeServiceNotAuthorized, "IAM authorization policy"},
		{encryption.ErrRootKeyNotFound, contract.ErrTypeKeyNotFound, "root key key-1 not found"},
		{encryption.ErrInvalidCiphertext, contract.ErrTypeBackupCorrupt, "catalog record of backup bk-1"},
		{encryption.ErrKMSUnavailable, "", "Key Protect unreachable, will retry"},
		{errors.New("boom"), "", "boom"},
	} {
		t.Run(c.err.Error(), func(t *testing.T) {
			err := classifyBackupKey("unwrap the DEK of backup bk-1", "bk-1", "key-1", fmt.Errorf("kp: %w", c.err))
			require.Equal(t, c.errType, contract.ErrorType(err))
			require.ErrorContains(t, err, "unwrap the DEK of backup bk-1: ")
			require.ErrorContains(t, err, c.contains)
		})
	}
}
