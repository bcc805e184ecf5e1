package contract

import (
	"errors"
	"fmt"
	"time"
)

// Scheduled work: the workflows Temporal Schedules start (the starter
// creates the schedules), and the activities of backup retention.

// Registered names of the scheduled workflows.
const (
	// WorkflowFleetRotate rotates the root key of many instances: those of
	// one root key, every live one, or the ones named (a per-instance
	// rotation schedule names one). It starts one RotateRootKey child per
	// instance, a few at a time.
	WorkflowFleetRotate = "FleetRotate"
	// WorkflowScheduledBackup backs an instance up (a BackupInstance child)
	// and prunes its backups older than the retention window.
	WorkflowScheduledBackup = "ScheduledBackup"
)

// Values of the ByokOperation search attribute of scheduled work.
const (
	OperationFleetRotate     = "fleet-rotate"
	OperationScheduledBackup = "scheduled-backup"
	// OperationPrune is the lock operation of a backup prune.
	OperationPrune = "prune"
)

// FleetTargetAll is the ByokRootKeyID and ByokInstanceID value of a
// schedule or FleetRotate run over every live instance.
const FleetTargetAll = "*"

// Registered names of the retention activities.
const (
	// ActivityListFleet lists the live instances of a FleetRotate.
	ActivityListFleet = "ListFleet"
	// ActivityListExpiredBackups lists the backups a prune removes.
	ActivityListExpiredBackups = "ListExpiredBackups"
	// ActivityEraseBackupKey crypto-erases a backup: its wrapped DEK is
	// cleared in the catalog (state pruned).
	ActivityEraseBackupKey = "EraseBackupKey"
	// ActivityRecordBackupFileDeleted records that a pruned backup's file
	// is gone.
	ActivityRecordBackupFileDeleted = "RecordBackupFileDeleted"
	// ActivityDeleteBackupFile is a node activity: it deletes a backup's
	// file from the backup store.
	ActivityDeleteBackupFile = "DeleteBackupFile"
)

// ErrTypeBackupPruned: the backup was pruned by retention (a backup
// schedule's --keep): its wrapped DEK is erased and its file deleted, so it
// can never be restored. The message says when; restore a newer backup.
const ErrTypeBackupPruned = "BackupPruned"

// ErrTypeFleetIncomplete: a FleetRotate rotated what it could, but some
// instances failed; the message names each and its error. Fix them and
// trigger the schedule again (instances already rotated only rewrap).
const ErrTypeFleetIncomplete = "FleetIncomplete"

// BackupPruned is the state of a backup removed by retention: its file is
// deleted and its wrapped DEK erased (crypto-erase); the row keeps its id
// and key lineage.
const BackupPruned BackupState = "pruned"

// Defaults and bounds of FleetRotate.
const (
	DefaultFleetParallel = 4
	MaxFleetParallel     = 64
	// DefaultFleetBatch is how many children one FleetRotate run starts
	// before it continues as new, so that no history grows past a few
	// thousand events.
	DefaultFleetBatch = 500
)

// FleetRotateInput selects the instances to rotate: InstanceIDs when
// given, else every live instance on RootKeyID, else (All) every live
// instance. Pending and Tally carry a run's remaining work into the next
// one after continue-as-new; callers leave them empty.
type FleetRotateInput struct {
	InstanceIDs []string `json:"instanceIds"`
	RootKeyID   string   `json:"rootKeyId"`
	All         bool     `json:"all"`
	// Parallel bounds the RotateRootKey children running at once; 0 means
	// DefaultFleetParallel.
	Parallel int `json:"parallel"`
	// Batch is the number of children per run; 0 means DefaultFleetBatch.
	Batch        int      `json:"batch"`
	RequestedBy  string   `json:"requestedBy"`
	NodeDeadline Duration `json:"nodeDeadline"`
	// Pending is the instances left after the previous run (nil on the
	// first run, which lists them).
	Pending []string `json:"pending"`
	// RewrapOnly are the pending instances whose root key an earlier
	// instance of the fleet rotates: they only rewrap, after it.
	RewrapOnly []string   `json:"rewrapOnly,omitempty"`
	Tally      FleetTally `json:"tally"`
}

// WithDefaults returns in with zero Parallel, Batch and NodeDeadline set.
func (in FleetRotateInput) WithDefaults() FleetRotateInput {
	if in.Parallel == 0 {
		in.Parallel = DefaultFleetParallel
	}
	if in.Batch == 0 {
		in.Batch = DefaultFleetBatch
	}
	if in.NodeDeadline == 0 {
		in.NodeDeadline = Duration(DefaultNodeDeadline)
	}
	return in
}

// Validate checks in after WithDefaults and returns every problem found.
func (in FleetRotateInput) Validate() error {
	var errs []error
	targets := 0
	for _, set := range []bool{len(in.InstanceIDs) > 0, in.RootKeyID != "", in.All} {
		if set {
			targets++
		}
	}
	if targets != 1 {
		errs = append(errs, errors.New("validate fleet: name exactly one of instances, a root key or all"))
	}
	for _, id := range in.InstanceIDs {
		errs = append(errs, ValidateInstanceName(id))
	}
	if in.RootKeyID != "" {
		errs = append(errs, ValidateRootKeyID(in.RootKeyID))
	}
	if in.Parallel < 1 || in.Parallel > MaxFleetParallel {
		errs = append(errs, fmt.Errorf("validate parallel %d: choose 1 to %d, or leave it unset for %d",
			in.Parallel, MaxFleetParallel, DefaultFleetParallel))
	}
	if in.Batch < 1 {
		errs = append(errs, fmt.Errorf("validate batch %d: give at least 1, or leave it unset for %d",
			in.Batch, DefaultFleetBatch))
	}
	return errors.Join(append(errs, ValidateNodeDeadline(in.NodeDeadline.D()))...)
}

// Target is what the run rotates, for search attributes and messages:
// the instance (one named), the root key, or FleetTargetAll.
func (in FleetRotateInput) Target() (instanceID, rootKeyID string) {
	switch {
	case len(in.InstanceIDs) == 1:
		return in.InstanceIDs[0], ""
	case in.RootKeyID != "":
		return FleetTargetAll, in.RootKeyID
	}
	return FleetTargetAll, FleetTargetAll
}

// FleetTally counts what a FleetRotate did, over all its runs.
type FleetTally struct {
	Rotated   int `json:"rotated"`
	Rewrapped int `json:"rewrapped"` // already at Key Protect's version: rewrapped, not rotated
	// Skipped lists instances busy with another operation (their next
	// scheduled run rotates them).
	Skipped []FleetSkip `json:"skipped"`
	Failed  []FleetSkip `json:"failed"`
	Runs    int         `json:"runs"`
}

// FleetSkip is an instance a FleetRotate did not rotate, and why.
type FleetSkip struct {
	InstanceID string `json:"instanceId"`
	Reason     string `json:"reason"`
}

// FleetRotateResult is the result of WorkflowFleetRotate.
type FleetRotateResult struct {
	Instances int        `json:"instances"`
	Tally     FleetTally `json:"tally"`
}

// ListFleetInput lists the live (active) instances on RootKeyID, or every
// live instance when All.
type ListFleetInput struct {
	RootKeyID string `json:"rootKeyId"`
	All       bool   `json:"all"`
}

// ListFleetResult lists instance ids, sorted.
type ListFleetResult struct {
	InstanceIDs []string `json:"instanceIds"`
	// RootKeyIDs are the instances' root keys, in the same order.
	RootKeyIDs []string `json:"rootKeyIds"`
}

// ScheduledBackupInput backs up InstanceID and then prunes its backups
// older than Keep (0 keeps every backup).
type ScheduledBackupInput struct {
	InstanceID   string   `json:"instanceId"`
	Keep         Duration `json:"keep"`
	RequestedBy  string   `json:"requestedBy"`
	NodeDeadline Duration `json:"nodeDeadline"`
}

// WithDefaults returns in with a zero NodeDeadline set.
func (in ScheduledBackupInput) WithDefaults() ScheduledBackupInput {
	if in.NodeDeadline == 0 {
		in.NodeDeadline = Duration(DefaultNodeDeadline)
	}
	return in
}

// Validate checks in after WithDefaults and returns every problem found.
func (in ScheduledBackupInput) Validate() error {
	var keep error
	if in.Keep < 0 || (in.Keep > 0 && in.Keep.D() < time.Second) {
		keep = fmt.Errorf("validate keep %s: give a retention of at least 1s, or 0 to keep every backup", in.Keep)
	}
	return errors.Join(ValidateInstanceName(in.InstanceID), keep, ValidateNodeDeadline(in.NodeDeadline.D()))
}

// ScheduledBackupResult is the result of WorkflowScheduledBackup: the new
// backup (nil when skipped), the reason it was skipped, and the backups
// pruned.
type ScheduledBackupResult struct {
	InstanceID string         `json:"instanceId"`
	Backup     *BackupResult  `json:"backup"`
	Skipped    string         `json:"skipped"`
	Pruned     []PrunedBackup `json:"pruned"`
}

// PrunedBackup is a backup removed by retention.
type PrunedBackup struct {
	BackupID  string    `json:"backupId"`
	CreatedAt time.Time `json:"createdAt"`
	PrunedAt  time.Time `json:"prunedAt"`
}

// ListExpiredBackupsInput lists InstanceID's complete backups created
// before Before, and its pruned backups whose file is not yet deleted (a
// prune that stopped half way), except Except.
type ListExpiredBackupsInput struct {
	InstanceID string    `json:"instanceId"`
	Before     time.Time `json:"before"`
	Except     string    `json:"except"`
}

// ListExpiredBackupsResult lists the backups, oldest first.
type ListExpiredBackupsResult struct {
	Backups []ExpiredBackup `json:"backups"`
}

// ExpiredBackup is a backup to prune: its file and creation time.
type ExpiredBackup struct {
	BackupID  string      `json:"backupId"`
	Location  string      `json:"location"`
	State     BackupState `json:"state"`
	CreatedAt time.Time   `json:"createdAt"`
}

// EraseBackupKeyInput crypto-erases backup BackupID: state pruned, wrapped
// DEK cleared, the retention in the audit. Idempotent; returns when it was
// pruned.
type EraseBackupKeyInput struct {
	BackupID    string   `json:"backupId"`
	Keep        Duration `json:"keep"`
	RequestedBy string   `json:"requestedBy"`
}

// EraseBackupKeyResult says when the backup was pruned.
type EraseBackupKeyResult struct {
	PrunedAt time.Time `json:"prunedAt"`
}

// DeleteBackupFileInput deletes a pruned backup's file from the backup
// store. A missing file is success.
type DeleteBackupFileInput struct {
	BackupID string `json:"backupId"`
	Location string `json:"location"`
}

// DeleteBackupFileResult says whether there was a file to delete.
type DeleteBackupFileResult struct {
	Existed bool `json:"existed"`
}

// RecordBackupFileDeletedInput records, in the catalog and the audit, that
// the file of pruned backup BackupID is deleted. Idempotent.
type RecordBackupFileDeletedInput struct {
	BackupID    string `json:"backupId"`
	Existed     bool   `json:"existed"`
	RequestedBy string `json:"requestedBy"`
}
