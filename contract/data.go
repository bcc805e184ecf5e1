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
	InstanceID   string   `json:"instanceId"`
	NodeID       string   `json:"nodeId"`
	BackupID     string   `json:"backupId"`
	DatabaseName string   `json:"databaseName"`
	RootKeyID    string   `json:"rootKeyId"`
	AAD          []string `json:"aad"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the node agent's default.
	KPInstanceID string `json:"kpInstanceId"`
}

// BackupDatabaseResult describes the written backup: where it is, its size
// and SHA-256 (of the encrypted file), and its key lineage: the wrapped
// backup DEK and the root key version that wrapped it.
type BackupDatabaseResult struct {
	BackupID     string `json:"backupId"`
	Location     string `json:"location"`
	Bytes        int64  `json:"bytes"`
	SHA256       string `json:"sha256"`
	RootKeyID    string `json:"rootKeyId"`
	KeyVersionID string `json:"keyVersionId"`
	WrappedDEK   []byte `json:"wrappedDek"`
	Tables       int    `json:"tables"`
	Rows         int64  `json:"rows"`
}

// RestoreDatabaseInput loads backup BackupID into the (empty) database
// DatabaseName of a new instance: the node unwraps WrappedDEK under
// RootKeyID with AAD, verifies SHA256, decrypts and loads schema and data in
// one transaction, heartbeating the bytes restored. A tampered or truncated
// backup fails with ErrTypeBackupCorrupt and leaves nothing loaded; a retry
// starts the load cleanly.
type RestoreDatabaseInput struct {
	InstanceID   string   `json:"instanceId"`
	NodeID       string   `json:"nodeId"`
	DatabaseName string   `json:"databaseName"`
	BackupID     string   `json:"backupId"`
	Location     string   `json:"location"`
	SHA256       string   `json:"sha256"`
	RootKeyID    string   `json:"rootKeyId"`
	KeyVersionID string   `json:"keyVersionId"`
	WrappedDEK   []byte   `json:"wrappedDek"`
	AAD          []string `json:"aad"`
	// KPInstanceID is the Key Protect instance of the backup's root key
	// (it unwraps the backup DEK); empty means the node agent's default.
	KPInstanceID string `json:"kpInstanceId"`
}

// RestoreDatabaseResult counts what was loaded.
type RestoreDatabaseResult struct {
	Bytes  int64 `json:"bytes"`
	Tables int   `json:"tables"`
	Rows   int64 `json:"rows"`
}

// RewrapBackupKeyInput rewraps a backup's DEK to the newest version of
// RootKeyID. Idempotent: a DEK already under TargetVersionID is returned as is.
type RewrapBackupKeyInput struct {
	BackupID        string   `json:"backupId"`
	RootKeyID       string   `json:"rootKeyId"`
	KeyVersionID    string   `json:"keyVersionId"`
	WrappedDEK      []byte   `json:"wrappedDek"`
	AAD             []string `json:"aad"`
	TargetVersionID string   `json:"targetVersionId"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the node agent's default.
	KPInstanceID string `json:"kpInstanceId"`
}

// RewrapBackupKeyResult is the backup's new key lineage.
type RewrapBackupKeyResult struct {
	KeyVersionID string `json:"keyVersionId"`
	WrappedDEK   []byte `json:"wrappedDek"`
}

// ShredKeySlotInput destroys a node's key for crypto-shredding: zeroize the
// DEK in memory, overwrite and delete the key slot, fsync, and report
// `destroyed` (the report is required, unlike DropKeySlot's). Idempotent: a
// node without a slot reports `destroyed` again.
type ShredKeySlotInput struct {
	InstanceID string `json:"instanceId"`
	NodeID     string `json:"nodeId"`
}

// BackupAAD returns the additional authenticated data that binds a backup's
// wrapped DEK to the backup.
func BackupAAD(backupID string) []string {
	return []string{"byokflow-backup:" + backupID}
}
