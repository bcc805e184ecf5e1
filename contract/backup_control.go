package contract

// Control-plane activities of backups (ControlTaskQueue): the catalog
// record of a backup and its key lineage, and the check that a backup can
// still be restored.

// Registered names of the backup control-plane activities.
const (
	ActivityLoadBackup            = "LoadBackup"
	ActivityCreateBackupRecord    = "CreateBackupRecord"
	ActivityCompleteBackupRecord  = "CompleteBackupRecord"
	ActivityFailBackupRecord      = "FailBackupRecord"
	ActivityCheckBackupRestorable = "CheckBackupRestorable"
	ActivityListBackupKeys        = "ListBackupKeys"
	ActivityUpdateBackupKey       = "UpdateBackupKey"
)

// BackupState is where a backup is in its life, as the catalog records it.
type BackupState string

// Backup states.
const (
	// BackupWriting: the backup workflow is running.
	BackupWriting BackupState = "writing"
	// BackupComplete: the file and its key lineage are recorded; restorable
	// while its root key exists.
	BackupComplete BackupState = "complete"
	// BackupFailed: the backup workflow failed; there is nothing to restore.
	BackupFailed BackupState = "failed"
	// BackupUnrecoverable: its root key was destroyed (crypto-shredded).
	BackupUnrecoverable BackupState = "unrecoverable"
	// BackupDeleted: the file was removed; the row keeps the lineage.
	BackupDeleted BackupState = "deleted"
)

// BackupRecord is a backup as the catalog records it: where its file is,
// its size and SHA-256, and its key lineage: the root key, the key version
// that wrapped its DEK, the wrapped DEK and the AAD bound to the wrap.
type BackupRecord struct {
	BackupID     string      `json:"backupId"`
	InstanceID   string      `json:"instanceId"`
	Location     string      `json:"location"`
	Bytes        int64       `json:"bytes"`
	SHA256       string      `json:"sha256"`
	RootKeyID    string      `json:"rootKeyId"`
	KeyVersionID string      `json:"keyVersionId"`
	WrappedDEK   []byte      `json:"wrappedDek"`
	AAD          []string    `json:"aad"`
	State        BackupState `json:"state"`
}

// LoadBackupInput reads a backup record. Fails ErrTypeBackupNotFound.
type LoadBackupInput struct {
	BackupID string `json:"backupId"`
}

// CreateBackupRecordInput records backup BackupID of InstanceID in state
// writing, before the node writes it. Idempotent while it is writing.
// Fails ErrTypeInstanceNotFound, or ErrTypeInvalidInput when the id is
// taken by a finished backup or another instance.
type CreateBackupRecordInput struct {
	BackupID     string `json:"backupId"`
	InstanceID   string `json:"instanceId"`
	RootKeyID    string `json:"rootKeyId"`
	KeyVersionID string `json:"keyVersionId"`
	RequestedBy  string `json:"requestedBy"`
}

// CompleteBackupRecordInput records what the node wrote (location, size,
// SHA-256 and key lineage) and marks the backup complete. Idempotent.
type CompleteBackupRecordInput struct {
	BackupID     string   `json:"backupId"`
	InstanceID   string   `json:"instanceId"`
	Location     string   `json:"location"`
	Bytes        int64    `json:"bytes"`
	SHA256       string   `json:"sha256"`
	RootKeyID    string   `json:"rootKeyId"`
	KeyVersionID string   `json:"keyVersionId"`
	WrappedDEK   []byte   `json:"wrappedDek"`
	AAD          []string `json:"aad"`
	RequestedBy  string   `json:"requestedBy"`
}

// FailBackupRecordInput marks a writing backup failed, with the reason in
// the audit trail. A complete backup is left as it is. Idempotent.
type FailBackupRecordInput struct {
	BackupID string `json:"backupId"`
	Reason   string `json:"reason"`
}

// CheckBackupRestorableInput checks, with the operator identity, that a
// backup can be restored: it exists and is complete (else
// ErrTypeBackupNotFound), and its root key is neither destroyed (a
// non-retryable ErrTypeBackupUnrecoverable) nor disabled
// (ErrTypeKeySuspended, saying to re-enable the key).
type CheckBackupRestorableInput struct {
	BackupID string `json:"backupId"`
}

// CheckBackupRestorableResult is the backup and the Key Protect instance of
// the instance it was taken of.
type CheckBackupRestorableResult struct {
	Backup       BackupRecord `json:"backup"`
	KPInstanceID string       `json:"kpInstanceId"`
}

// ListBackupKeysInput lists the complete backups of an instance, for a
// rotation to rewrap their DEKs.
type ListBackupKeysInput struct {
	InstanceID string `json:"instanceId"`
}

// ListBackupKeysResult lists the backups, oldest first.
type ListBackupKeysResult struct {
	Backups []BackupRecord `json:"backups"`
}

// UpdateBackupKeyInput records a backup's new key lineage after its DEK
// was rewrapped. Idempotent.
type UpdateBackupKeyInput struct {
	BackupID     string `json:"backupId"`
	KeyVersionID string `json:"keyVersionId"`
	WrappedDEK   []byte `json:"wrappedDek"`
	RequestedBy  string `json:"requestedBy"`
}
