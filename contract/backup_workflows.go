package contract

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Registered names of the backup and restore workflows.
const (
	WorkflowBackupInstance    = "BackupInstance"
	WorkflowRestoreFromBackup = "RestoreFromBackup"
)

// Values of the ByokOperation search attribute for backup and restore.
const (
	OperationBackup  = "backup"
	OperationRestore = "restore"
)

// backupIDRE accepts the ids BackupID makes and any other plain file-name
// safe id an operator may give.
var backupIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// BackupID is the id of the backup of instanceID started at at: the
// instance id and the UTC time to the millisecond, for example
// "orders-db-20300102T030405.678". A workflow derives it from
// workflow.Now, so every retry of the run finds the same record; backups
// of one instance hold its lock one after the other, so two never share
// a millisecond (to the second, a backup started in the second the
// previous one ended was refused).
func BackupID(instanceID string, at time.Time) string {
	return instanceID + "-" + at.UTC().Format("20060102T150405.000")
}

// ValidateBackupID checks that id looks like a backup id.
func ValidateBackupID(id string) error {
	if backupIDRE.MatchString(id) {
		return nil
	}
	return fmt.Errorf("validate backup id %q: give the id of a backup, as `starter backups` "+
		"lists it, for example \"orders-db-20300102T030405.678\"", id)
}

// BackupInput is the input of WorkflowBackupInstance.
type BackupInput struct {
	// InstanceID is the active instance to back up.
	InstanceID  string `json:"instanceId"`
	RequestedBy string `json:"requestedBy"`
	// NodeDeadline bounds the wait for the primary node's agent to pick up
	// the backup; 0 means DefaultNodeDeadline.
	NodeDeadline Duration `json:"nodeDeadline"`
}

// WithDefaults returns in with a zero NodeDeadline replaced by the default.
func (in BackupInput) WithDefaults() BackupInput {
	if in.NodeDeadline == 0 {
		in.NodeDeadline = Duration(DefaultNodeDeadline)
	}
	return in
}

// Validate checks in after WithDefaults and returns every problem found.
func (in BackupInput) Validate() error {
	return errors.Join(ValidateInstanceName(in.InstanceID), ValidateNodeDeadline(in.NodeDeadline.D()))
}

// BackupResult is the result of WorkflowBackupInstance: where the backup
// is, its size and SHA-256 (of the encrypted file), and its key lineage.
type BackupResult struct {
	BackupID     string `json:"backupId"`
	InstanceID   string `json:"instanceId"`
	Location     string `json:"location"`
	Bytes        int64  `json:"bytes"`
	SHA256       string `json:"sha256"`
	RootKeyID    string `json:"rootKeyId"`
	KeyVersionID string `json:"keyVersionId"`
	Tables       int    `json:"tables"`
	Rows         int64  `json:"rows"`
}

// RestoreInput is the input of WorkflowRestoreFromBackup: restore BackupID
// into a new instance InstanceID, encrypted under RootKeyID (the backup's
// root key or another one).
type RestoreInput struct {
	BackupID string `json:"backupId"`
	// InstanceID names the new instance; see ValidateInstanceName.
	InstanceID string `json:"instanceId"`
	// RootKeyID is the id or alias of the new instance's root key.
	RootKeyID string `json:"rootKeyId"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the Key Protect instance of the backup's instance.
	KPInstanceID string `json:"kpInstanceId"`
	// Nodes is the new instance's node count; 0 means DefaultNodes.
	Nodes               int    `json:"nodes"`
	CreateAuthorization bool   `json:"createAuthorization"`
	RequestedBy         string `json:"requestedBy"`
	// NodeDeadline bounds the wait for each node agent; 0 means
	// DefaultNodeDeadline.
	NodeDeadline Duration `json:"nodeDeadline"`
	// AdminVerifier is the SCRAM-SHA-256 verifier of the new instance's
	// admin password (see ProvisionInput).
	AdminVerifier string `json:"adminVerifier"`
}

// WithDefaults returns in with zero Nodes and NodeDeadline replaced by defaults.
func (in RestoreInput) WithDefaults() RestoreInput {
	p := ProvisionInput{Nodes: in.Nodes, NodeDeadline: in.NodeDeadline}.WithDefaults()
	in.Nodes, in.NodeDeadline = p.Nodes, p.NodeDeadline
	return in
}

// Validate checks in after WithDefaults and returns every problem found.
func (in RestoreInput) Validate() error {
	var kp error
	if in.KPInstanceID != "" {
		kp = ValidateKPInstanceID(in.KPInstanceID)
	}
	return errors.Join(
		ValidateBackupID(in.BackupID),
		ValidateInstanceName(in.InstanceID),
		ValidateRootKeyID(in.RootKeyID),
		kp,
		ValidateNodeCount(in.Nodes),
		ValidateNodeDeadline(in.NodeDeadline.D()),
		ValidateAdminVerifier(in.AdminVerifier),
	)
}

// Provision is the input of the child ProvisionEncryptedInstance that
// makes the new instance in Key Protect instance kpInstanceID.
func (in RestoreInput) Provision(kpInstanceID string) ProvisionInput {
	return ProvisionInput{InstanceID: in.InstanceID, RootKeyID: in.RootKeyID, KPInstanceID: kpInstanceID,
		Nodes: in.Nodes, CreateAuthorization: in.CreateAuthorization, RequestedBy: in.RequestedBy,
		NodeDeadline: in.NodeDeadline, AdminVerifier: in.AdminVerifier, AwaitData: true}
}

// RestoreResult is the result of WorkflowRestoreFromBackup: the new
// instance as its provision made it (every node active) and what the
// restore loaded into it.
type RestoreResult struct {
	InstanceID string          `json:"instanceId"`
	BackupID   string          `json:"backupId"`
	Provision  ProvisionResult `json:"provision"`
	Bytes      int64           `json:"bytes"`
	Tables     int             `json:"tables"`
	Rows       int64           `json:"rows"`
}
