package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
)

// sha256Pattern is a SHA-256 in hex.
var sha256Pattern = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// RestoreDatabase is the node activity contract.ActivityRestoreDatabase, run
// on a node of the new instance. It loads backup in.BackupID into the empty
// database in.DatabaseName:
//
//  1. In one transaction on the target, holding an advisory lock so that
//     two attempts cannot load at once, it looks for the marker a committed
//     restore leaves (a comment on the database, see target.go): a retry
//     whose earlier attempt committed but whose result was lost returns
//     that attempt's counts; a database holding other objects is refused.
//  2. It checks the backup file exists (else BackupNotFound) and that its
//     SHA-256 matches in.SHA256 before decrypting anything (else
//     BackupCorrupt).
//  3. It unwraps the backup DEK with the service identity: a destroyed
//     root key fails BackupUnrecoverable, a disabled one KeySuspended.
//  4. It decrypts and loads, in the same transaction: the pre-data schema,
//     every table with COPY ... FROM STDIN, the post-data schema (indexes
//     and constraints built after the data), the sequence values, the
//     marker; then commits. A stream that fails authentication midway
//     fails BackupCorrupt and rolls everything back, so nothing
//     half-loaded is ever visible, and a retry starts cleanly.
//
// It heartbeats the backup-file bytes read (first while hashing, then
// while loading). Result.Bytes is the size of the backup file. The DEK is
// destroyed before it returns.
func (a *Agent) RestoreDatabase(ctx context.Context, in contract.RestoreDatabaseInput) (contract.RestoreDatabaseResult, error) {
	what := fmt.Sprintf("restore backup %s into database %s", in.BackupID, in.DatabaseName)
	if err := checkRestoreInput(in); err != nil {
		return contract.RestoreDatabaseResult{}, invalidInput("restore backup", err)
	}
	c, err := a.dataFor(ctx, what, nodeRef{InstanceID: in.InstanceID, NodeID: in.NodeID})
	if err != nil {
		return contract.RestoreDatabaseResult{}, err
	}
	path, err := c.backupPath(restoreLocation(in))
	if err != nil {
		return contract.RestoreDatabaseResult{}, invalidInput(what, err)
	}
	heartbeat(ctx, "open target")
	t, done, err := c.openTarget(ctx, in.DatabaseName, in.BackupID)
	if err != nil || done != nil {
		return resultOf(done), restoreError(what, in.DatabaseName, err)
	}
	defer t.close()
	res, err := a.restoreInto(ctx, t, path, in)
	if err != nil {
		return contract.RestoreDatabaseResult{}, restoreError(what, in.DatabaseName, err)
	}
	a.log.Info("backup restored", "instance", in.InstanceID, "node", in.NodeID, "backup", in.BackupID,
		"database", in.DatabaseName, "bytes", res.Bytes, "tables", res.Tables, "rows", res.Rows)
	return res, nil
}

// restoreInto verifies, decrypts and loads the backup file at path into
// t, and commits.
func (a *Agent) restoreInto(ctx context.Context, t *target, path string,
	in contract.RestoreDatabaseInput) (contract.RestoreDatabaseResult, error) {
	f, err := openBackup(path, in.BackupID)
	if err != nil {
		return contract.RestoreDatabaseResult{}, err
	}
	defer f.Close()
	var prog progress
	stop := heartbeats(ctx, &prog)
	defer stop()
	size, err := verifyBackup(f, in, &prog)
	if err != nil {
		return contract.RestoreDatabaseResult{}, err
	}
	dek, err := a.unwrapBackupDEK(ctx, in)
	if err != nil {
		return contract.RestoreDatabaseResult{}, err
	}
	defer dek.Destroy()
	stats, err := t.load(ctx, &countingReader{r: f, prog: &prog}, dek, in.BackupID)
	if err != nil {
		return contract.RestoreDatabaseResult{}, err
	}
	res := contract.RestoreDatabaseResult{Bytes: size, Tables: stats.Tables, Rows: stats.Rows}
	return res, t.commit(ctx, in.BackupID, res)
}

// checkRestoreInput checks the ids and key lineage of a restore input.
func checkRestoreInput(in contract.RestoreDatabaseInput) error {
	if err := checkIDs(in.InstanceID, in.NodeID); err != nil {
		return err
	}
	if err := checkBackupIDs(in.BackupID, in.DatabaseName); err != nil {
		return err
	}
	if in.RootKeyID == "" || len(in.WrappedDEK) == 0 || len(in.AAD) == 0 {
		return fmt.Errorf("backup %s: its root key id, wrapped DEK and AAD are required: "+
			"take them from the backup's catalog record", in.BackupID)
	}
	if !sha256Pattern.MatchString(in.SHA256) {
		return fmt.Errorf("backup %s: SHA256 %q is not a SHA-256 in hex: take it from the backup's catalog record",
			in.BackupID, in.SHA256)
	}
	return nil
}

// restoreLocation is the backup's file in the store: in.Location, or the
// name BackupDatabase gives it.
func restoreLocation(in contract.RestoreDatabaseInput) string {
	if in.Location != "" {
		return in.Location
	}
	return in.BackupID + backupExt
}

// openBackup opens the backup file; a missing one is BackupNotFound.
func openBackup(path, backupID string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, contract.NewError(contract.ErrTypeBackupNotFound, fmt.Sprintf("backup %s is not in the "+
			"backup store: no file %s: check BYOK_BACKUP_DIR on this node agent, or restore another backup",
			backupID, path), nil)
	}
	return f, err
}

// verifyBackup hashes the whole file and compares it with the catalog's
// SHA-256, then rewinds the file. It returns the file's size.
func verifyBackup(f *os.File, in contract.RestoreDatabaseInput, prog *progress) (int64, error) {
	sum, n, err := fileSHA256(f, prog)
	if err != nil {
		return 0, fmt.Errorf("read backup file %s: %w", f.Name(), err)
	}
	if !strings.EqualFold(sum, in.SHA256) {
		return 0, contract.NewError(contract.ErrTypeBackupCorrupt, fmt.Sprintf("backup %s is corrupt: its "+
			"SHA-256 does not match the catalog: the file %s has %s, the catalog records %s: nothing was "+
			"restored; restore another backup", in.BackupID, f.Name(), sum, strings.ToLower(in.SHA256)), nil)
	}
	_, err = f.Seek(0, io.SeekStart)
	return n, err
}

// unwrapBackupDEK unwraps the backup's DEK with the service identity.
func (a *Agent) unwrapBackupDEK(ctx context.Context, in contract.RestoreDatabaseInput) (*encryption.DataKey, error) {
	heartbeat(ctx, "unwrap")
	wk := encryption.WrappedKey{RootKeyID: in.RootKeyID, KeyVersion: in.KeyVersionID, Ciphertext: in.WrappedDEK}
	w, err := a.wrapperFor(in.KPInstanceID)
	if err != nil {
		return nil, err
	}
	dek, _, err := w.UnwrapKey(ctx, wk, in.AAD)
	if err != nil {
		return nil, classifyBackupKey("unwrap the DEK of backup "+in.BackupID, in.BackupID, in.RootKeyID, err)
	}
	return dek, nil
}

// resultOf is the result of an earlier attempt that committed, or zero.
func resultOf(done *contract.RestoreDatabaseResult) contract.RestoreDatabaseResult {
	if done == nil {
		return contract.RestoreDatabaseResult{}
	}
	return *done
}

// restoreError classifies a failed restore once: typed errors are kept; a
// stream that fails authentication, or decrypts to a malformed dump, is
// BackupCorrupt; anything else (the database server, I/O) is retried.
func restoreError(what, database string, err error) error {
	var why string
	switch {
	case err == nil:
		return nil
	case typedError(err) != nil:
		return typedError(err)
	case errors.Is(err, errMalformed):
		why = "it decrypts to a malformed dump (" + err.Error() + ")"
	case errors.Is(err, encryption.ErrAuthentication), errors.Is(err, encryption.ErrFormat):
		why = "it failed authentication while decrypting (it was changed or cut short)"
	default:
		return databaseError(what, database, err)
	}
	return contract.NewError(contract.ErrTypeBackupCorrupt, fmt.Sprintf("%s: the backup is corrupt: %s: "+
		"nothing was restored; restore another backup", what, why), nil)
}
