package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
)

// RewrapBackupKey is the node activity contract.ActivityRewrapBackupKey: it
// brings a backup's wrapped DEK to the newest version of its root key, as
// RewrapKey does for a node's key slot. Key Protect's unwrap returns the
// DEK rewrapped under the newest version when the wrapped one is older;
// the DEK itself, and so the backup file, does not change. The plaintext
// DEK is destroyed at once.
//
// It is idempotent: a DEK already under in.TargetVersionID is returned as
// it is, without calling Key Protect, and so is one that Key Protect does
// not offer to rewrap (already under the newest version), for the workflow
// to judge. A destroyed root key fails BackupUnrecoverable, a disabled one
// KeySuspended.
func (a *Agent) RewrapBackupKey(ctx context.Context, in contract.RewrapBackupKeyInput) (contract.RewrapBackupKeyResult, error) {
	what := "rewrap the DEK of backup " + in.BackupID
	if err := checkRewrapBackupInput(in); err != nil {
		return contract.RewrapBackupKeyResult{}, invalidInput(what, err)
	}
	same := contract.RewrapBackupKeyResult{KeyVersionID: in.KeyVersionID, WrappedDEK: bytes.Clone(in.WrappedDEK)}
	if in.KeyVersionID == in.TargetVersionID {
		return same, nil
	}
	heartbeat(ctx, "unwrap")
	wk := encryption.WrappedKey{RootKeyID: in.RootKeyID, KeyVersion: in.KeyVersionID, Ciphertext: in.WrappedDEK}
	w, err := a.wrapperFor(in.KPInstanceID)
	if err != nil {
		return contract.RewrapBackupKeyResult{}, err
	}
	next, rewrapped, err := encryption.Rewrap(ctx, w, wk, in.AAD)
	if err != nil {
		return contract.RewrapBackupKeyResult{}, classifyBackupKey(what, in.BackupID, in.RootKeyID, err)
	}
	if !rewrapped {
		return same, nil
	}
	if next.KeyVersion == "" || len(next.Ciphertext) == 0 {
		return contract.RewrapBackupKeyResult{}, fmt.Errorf("%s: Key Protect returned a rewrapped DEK "+
			"without key version or ciphertext for root key %s", what, in.RootKeyID)
	}
	a.log.Info("backup DEK rewrapped", "backup", in.BackupID, "root_key", in.RootKeyID,
		"from_version", in.KeyVersionID, "to_version", next.KeyVersion)
	return contract.RewrapBackupKeyResult{KeyVersionID: next.KeyVersion, WrappedDEK: next.Ciphertext}, nil
}

// checkRewrapBackupInput checks a RewrapBackupKey input.
func checkRewrapBackupInput(in contract.RewrapBackupKeyInput) error {
	if !backupIDPattern.MatchString(in.BackupID) {
		return fmt.Errorf("backup id %q: use 1-128 letters, digits, dots, dashes or underscores", in.BackupID)
	}
	if in.RootKeyID == "" || len(in.WrappedDEK) == 0 || len(in.AAD) == 0 {
		return fmt.Errorf("backup %s: its root key id, wrapped DEK and AAD are required: "+
			"take them from the backup's catalog record", in.BackupID)
	}
	return nil
}

// classifyBackupKey maps a KeyWrapper error on a backup's DEK once, at the
// activity boundary. A destroyed root key makes the backup unrecoverable;
// a wrapped DEK that Key Protect refuses means the catalog's record of the
// backup no longer fits it. The rest is classified as for node keys.
func classifyBackupKey(what, backupID, rootKeyID string, err error) error {
	switch {
	case errors.Is(err, encryption.ErrRootKeyDestroyed):
		return contract.NewError(contract.ErrTypeBackupUnrecoverable, fmt.Sprintf("%s: root key %s is "+
			"destroyed; this backup cannot be restored (if the key was deleted less than 30 days ago, "+
			"restore it in Key Protect first)", what, rootKeyID), err)
	case errors.Is(err, encryption.ErrRootKeySuspended):
		return contract.NewError(contract.ErrTypeKeySuspended, fmt.Sprintf("%s: root key %s is disabled in "+
			"Key Protect: re-enable root key %s and retry", what, rootKeyID, rootKeyID), err)
	case errors.Is(err, encryption.ErrInvalidCiphertext):
		return contract.NewError(contract.ErrTypeBackupCorrupt, fmt.Sprintf("%s: Key Protect refused the "+
			"backup's wrapped DEK for root key %s and the backup's AAD: the catalog record of backup %s "+
			"does not match the key that wrapped it: restore another backup", what, rootKeyID, backupID), err)
	case errors.Is(err, encryption.ErrKMSUnavailable):
		return fmt.Errorf("%s: Key Protect unreachable, will retry: %w", what, err)
	}
	if c, ok := permanentClass(rootKeyID, err); ok {
		return contract.NewError(c.errType, what+": "+c.msg, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
