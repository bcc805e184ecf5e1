package contract

// Inputs and results of the node activities that move instance data:
// backup, restore, the rewrap of a backup's DEK after a rotation, and the
// shredding of a node's key. They run on the task queue of a node's host
// (the instance's primary node for backups, a node of the new instance for
// restores), because only a node agent may hold a plaintext DEK.
//
// Backup files live in the backup store, the directory BYOK_BACKUP_DIR that
// every node agent sees (object storage in a real deployment); Location is
// relative to it.

// Node activity names for the data path.
const (
	ActivityBackupDatabase  = "BackupDatabase"
	ActivityRestoreDatabase = "RestoreDatabase"
	ActivityRewrapBackupKey = "RewrapBackupKey"
	ActivityShredKeySlot    = "ShredKeySlot"
)

// BackupDatabaseInput streams the instance database DatabaseName (schema and
// data) through the encryption library under a fresh backup DEK wrapped by
// RootKeyID with AAD (see BackupAAD), into the backup store as BackupID.
// Idempotent: a retry rewrites the file from the start.
type BackupDatabaseInput struct {
	InstanceID   string
	NodeID       string
	BackupID     string
	DatabaseName string
	RootKeyID    string
	AAD          []string
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the node agent's default.
	KPInstanceID string
}

// BackupDatabaseResult describes the written backup: where it is, its size
// and SHA-256 (of the encrypted file), and its key lineage: the wrapped
// backup DEK and the root key version that wrapped it.
type BackupDatabaseResult struct {
	BackupID     string
	Location     string
	Bytes        int64
	SHA256       string
	RootKeyID    string
	KeyVersionID string
	WrappedDEK   []byte
	Tables       int
	Rows         int64
}

// RestoreDatabaseInput loads backup BackupID into the (empty) database
// DatabaseName of a new instance: the node unwraps WrappedDEK under
// RootKeyID with AAD, verifies SHA256, decrypts and loads schema and data in
// one transaction, heartbeating the bytes restored. A tampered or truncated
// backup fails with ErrTypeBackupCorrupt and leaves nothing loaded; a retry
// starts the load cleanly.
type RestoreDatabaseInput struct {
	InstanceID   string
	NodeID       string
	DatabaseName string
	BackupID     string
	Location     string
	SHA256       string
	RootKeyID    string
	KeyVersionID string
	WrappedDEK   []byte
	AAD          []string
	// KPInstanceID is the Key Protect instance of the backup's root key
	// (it unwraps the backup DEK); empty means the node agent's default.
	KPInstanceID string
}

// RestoreDatabaseResult counts what was loaded.
type RestoreDatabaseResult struct {
	Bytes  int64
	Tables int
	Rows   int64
}

// RewrapBackupKeyInput rewraps a backup's DEK to the newest version of
// RootKeyID. Idempotent: a DEK already under TargetVersionID is returned as is.
type RewrapBackupKeyInput struct {
	BackupID        string
	RootKeyID       string
	KeyVersionID    string
	WrappedDEK      []byte
	AAD             []string
	TargetVersionID string
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the node agent's default.
	KPInstanceID string
}

// RewrapBackupKeyResult is the backup's new key lineage.
type RewrapBackupKeyResult struct {
	KeyVersionID string
	WrappedDEK   []byte
}

// ShredKeySlotInput destroys a node's key for crypto-shredding: zeroize the
// DEK in memory, overwrite and delete the key slot, fsync, and report
// `destroyed` (the report is required, unlike DropKeySlot's). Idempotent: a
// node without a slot reports `destroyed` again.
type ShredKeySlotInput struct {
	InstanceID string
	NodeID     string
}

// BackupAAD returns the additional authenticated data that binds a backup's
// wrapped DEK to the backup.
func BackupAAD(backupID string) []string {
	return []string{"byokflow-backup:" + backupID}
}
