package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
)

// BackupDatabase is the node activity contract.ActivityBackupDatabase, run
// on the instance's primary node. It makes a logical backup of database
// in.DatabaseName: its schema (pg_dump --section=pre-data and post-data, in
// the snapshot the data is read in) and every table's rows (COPY ... TO
// STDOUT), framed as a dump (dump.go) and streamed through the encryption
// library under a fresh backup DEK, which the service identity wraps under
// in.RootKeyID with in.AAD. The stream is bound to the backup id, so one
// backup's file does not open as another's.
//
// The file is written to <BackupDir>/<backup id>.byok.tmp, fsynced, then
// renamed to <backup id>.byok and the directory fsynced: a backup file is
// either complete and durable or absent. A retry rewrites it from the
// start under a new DEK. Memory stays bounded whatever the database's
// size; the activity heartbeats the bytes written. The DEK is destroyed
// before it returns; only its wrapped form is in the result.
func (a *Agent) BackupDatabase(ctx context.Context, in contract.BackupDatabaseInput) (contract.BackupDatabaseResult, error) {
	op := "back up database " + in.DatabaseName
	if err := checkBackupInput(in); err != nil {
		return contract.BackupDatabaseResult{}, invalidInput(op, err)
	}
	c, err := a.dataFor(ctx, op, nodeRef{InstanceID: in.InstanceID, NodeID: in.NodeID})
	if err != nil {
		return contract.BackupDatabaseResult{}, err
	}
	ctx, unlock, err := a.backups.lock(ctx, in.BackupID)
	if err != nil {
		return contract.BackupDatabaseResult{}, err
	}
	defer unlock()
	dek, err := encryption.NewDataKey()
	if err != nil {
		return contract.BackupDatabaseResult{}, fmt.Errorf("%s: %w", op, err)
	}
	defer dek.Destroy()
	wk, err := a.wrapBackupDEK(ctx, in, dek)
	if err != nil {
		return contract.BackupDatabaseResult{}, err
	}
	res, err := a.writeBackup(ctx, c, in, dek, wk)
	if err != nil {
		return contract.BackupDatabaseResult{}, err
	}
	a.log.Info("database backed up", "instance", in.InstanceID, "backup", in.BackupID,
		"database", in.DatabaseName, "bytes", res.Bytes, "tables", res.Tables, "rows", res.Rows,
		"root_key", wk.RootKeyID, "key_version", wk.KeyVersion)
	return res, nil
}

// checkBackupInput checks the ids of a backup input.
func checkBackupInput(in contract.BackupDatabaseInput) error {
	if err := checkIDs(in.InstanceID, in.NodeID); err != nil {
		return err
	}
	if err := checkBackupIDs(in.BackupID, in.DatabaseName); err != nil {
		return err
	}
	if in.RootKeyID == "" || len(in.AAD) == 0 {
		return fmt.Errorf("backup %s: a root key id and the AAD (contract.BackupAAD) are required", in.BackupID)
	}
	return nil
}

// wrapBackupDEK wraps the backup's DEK under the instance's root key.
func (a *Agent) wrapBackupDEK(ctx context.Context, in contract.BackupDatabaseInput,
	dek *encryption.DataKey) (encryption.WrappedKey, error) {
	heartbeat(ctx, "wrap")
	n := nodeRef{InstanceID: in.InstanceID, NodeID: in.NodeID}
	wk, err := a.wrapKey(ctx, in.KPInstanceID, in.RootKeyID, dek, in.AAD)
	if err != nil {
		return wk, classify("back up database "+in.DatabaseName+" as "+in.BackupID, n, in.RootKeyID, err).err
	}
	if wk.KeyVersion == "" || len(wk.Ciphertext) == 0 {
		return wk, fmt.Errorf("back up database %s as %s: Key Protect returned no key version or "+
			"ciphertext for root key %s", in.DatabaseName, in.BackupID, in.RootKeyID)
	}
	return wk, nil
}

// writeBackup writes the encrypted dump to the backup's temporary file and
// makes it the backup file once it is complete and durable.
func (a *Agent) writeBackup(ctx context.Context, c dataConfig, in contract.BackupDatabaseInput, dek *encryption.DataKey,
	wk encryption.WrappedKey) (contract.BackupDatabaseResult, error) {
	what := fmt.Sprintf("back up database %s as %s", in.DatabaseName, in.BackupID)
	f, final, err := createBackupFile(c.backupDir, in.BackupID)
	if err != nil {
		return contract.BackupDatabaseResult{}, fmt.Errorf("%s: %w: check BYOK_BACKUP_DIR", what, err)
	}
	var prog progress
	stop := heartbeats(ctx, &prog)
	sink := newFileSink(&writebackFile{f: f}, &prog)
	stats, err := a.dump(ctx, c, in, sink, dek, wk)
	stop()
	if ferr := sink.flush(); err == nil {
		err = ferr
	}
	if err := finishBackupFile(f, final, err); err != nil {
		return contract.BackupDatabaseResult{}, dumpError(what, in.DatabaseName, err)
	}
	return contract.BackupDatabaseResult{BackupID: in.BackupID, Location: filepath.Base(final),
		Bytes: sink.n, SHA256: sink.hexSum(), RootKeyID: in.RootKeyID, KeyVersionID: wk.KeyVersion,
		WrappedDEK: wk.Ciphertext, Tables: stats.Tables, Rows: stats.Rows}, nil
}

// createBackupFile creates the backup store if needed and opens the
// backup's temporary file, <id>.byok.tmp, truncating what an earlier
// attempt left there. It returns the file and the backup file's final path.
func createBackupFile(dir, backupID string) (*os.File, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	final := filepath.Join(dir, backupID+backupExt)
	f, err := os.OpenFile(final+tmpExt, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	return f, final, err
}

// finishBackupFile fsyncs and closes f; then, if the dump succeeded (err is
// nil), renames it to final and fsyncs the directory, else removes it.
func finishBackupFile(f *os.File, final string, err error) error {
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return syncDir(filepath.Dir(final))
}

// dumpError classifies a failed dump: typed errors (large objects) are
// kept, anything else is retried.
func dumpError(what, database string, err error) error {
	if typed := typedError(err); typed != nil {
		return typed
	}
	return databaseError(what, database, err)
}

// typedError is the classified (application) error in err's chain, or
// nil. Temporal reads an activity error's type from the error itself, not
// its chain, so a classified error must be returned as it is.
func typedError(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr
	}
	return nil
}
