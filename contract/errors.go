package contract

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Error types of permanent failures. An activity classifies its error once and
// returns NewError(ErrTypeX, ...); a workflow branches on ErrorType(err). The
// message says what failed, names the ids involved and tells the user what to
// do; it never contains secret material.
const (
	// ErrTypeInvalidInput: a workflow or activity input is malformed.
	ErrTypeInvalidInput = "InvalidInput"
	// ErrTypeServiceNotAuthorized: the IAM service-to-service policy (source
	// the DBaaS service, target the Key Protect instance, role Reader) is
	// missing. The message names the policy and the --create-authorization flag.
	ErrTypeServiceNotAuthorized = "ServiceNotAuthorized"
	// ErrTypeAccessDenied: the operator identity lacks a role it needs, for
	// example Manager on the Key Protect instance.
	ErrTypeAccessDenied = "AccessDenied"
	// ErrTypeKeyNotFound: no such key in the given Key Protect instance
	// (also for a key that lives in another instance).
	ErrTypeKeyNotFound = "KeyNotFound"
	// ErrTypeNotRootKey: the key is a standard key; BYOK needs a root key.
	ErrTypeNotRootKey = "NotRootKey"
	// ErrTypeKeyNotActive: the key is not in state Active; the message names
	// its state.
	ErrTypeKeyNotActive = "KeyNotActive"
	// ErrTypeKeyDestroyed: the key is destroyed; data under it is unrecoverable.
	ErrTypeKeyDestroyed = "KeyDestroyed"
	// ErrTypeKeySuspended: the key is disabled (suspended); re-enable it.
	ErrTypeKeySuspended = "KeySuspended"
	// ErrTypeRotationTooSoon: Key Protect refused to rotate the key again so soon.
	ErrTypeRotationTooSoon = "RotationTooSoon"
	// ErrTypeKeyMaterialRequired: the root key was imported, so Key Protect
	// cannot generate its new material; the message says how to rotate it
	// with new material (starter rotate --material-file) or after rotating
	// it outside byokflow (--rewrap-only).
	ErrTypeKeyMaterialRequired = "KeyMaterialRequired"
	// ErrTypeInstanceExists: an instance of that name exists and is not failed.
	ErrTypeInstanceExists = "InstanceExists"
	// ErrTypeInstanceNotFound: no instance of that name in the catalog.
	ErrTypeInstanceNotFound = "InstanceNotFound"
	// ErrTypeInstanceNotActive: the instance is pending or failed, so it
	// cannot be rotated.
	ErrTypeInstanceNotActive = "InstanceNotActive"
	// ErrTypeNoNodeHosts: no node agent is registered to place nodes on.
	ErrTypeNoNodeHosts = "NoNodeHosts"
	// ErrTypeNodeDeadline: nodes did not report before the node deadline; the
	// message names the nodes and their hosts.
	ErrTypeNodeDeadline = "NodeDeadline"
	// ErrTypeNodeKeyMismatch: a node reported another state or key version
	// than the workflow expected.
	ErrTypeNodeKeyMismatch = "NodeKeyMismatch"
	// ErrTypeKeySlotConflict: the node already holds a key slot for the same
	// instance and node under another root key.
	ErrTypeKeySlotConflict = "KeySlotConflict"
	// ErrTypeKeySlotInvalid: the node's key slot cannot be used: it is
	// corrupt on disk, or Key Protect refused its wrapped DEK for the root
	// key and AAD, or the DEK it holds does not match its check value.
	ErrTypeKeySlotInvalid = "KeySlotInvalid"
	// ErrTypeKeySlotMissing: a node found no key slot for the node on its host.
	ErrTypeKeySlotMissing = "KeySlotMissing"
	// ErrTypeBackupUnrecoverable: the backup's root key is destroyed; the
	// backup can never be restored.
	ErrTypeBackupUnrecoverable = "BackupUnrecoverable"
	// ErrTypeBackupCorrupt: the backup file does not match its recorded
	// SHA-256, or fails authentication while decrypting; nothing was loaded.
	ErrTypeBackupCorrupt = "BackupCorrupt"
	// ErrTypeBackupNotFound: no backup of that id in the catalog or the store.
	ErrTypeBackupNotFound = "BackupNotFound"
	// ErrTypeKeyInUse: crypto-shredding would delete a root key that other
	// live instances still use; the message names them.
	ErrTypeKeyInUse = "KeyInUse"
	// ErrTypeBackupsRetained: crypto-shredding would make retained backups
	// unrecoverable and nobody acknowledged it; the message names them.
	ErrTypeBackupsRetained = "BackupsRetained"
	// ErrTypeApprovalExpired: the second person's approval (or the second
	// authorization of a dual-auth key deletion) did not arrive in time.
	ErrTypeApprovalExpired = "ApprovalExpired"
	// ErrTypeKeyDeletionBlocked: Key Protect refuses to delete the root key
	// while a registered resource has a retention policy
	// (preventKeyDeletion), even with force.
	ErrTypeKeyDeletionBlocked = "KeyDeletionBlocked"
	// ErrTypeForeignRegistrations: Key Protect lists resources of other
	// services (or other byokflow deployments) registered with the root key
	// a crypto-shred would delete; the message names each CRN. No flag
	// overrides it: those resources would be destroyed too.
	ErrTypeForeignRegistrations = "ForeignRegistrations"
	// ErrTypeApprovalNotProven: Key Protect does not show the root key set
	// for deletion by an IAM id other than the requester's; the crypto-shred
	// keeps waiting. The message says what Key Protect shows.
	ErrTypeApprovalNotProven = "ApprovalNotProven"
	// ErrTypeShredUnproven: after its deletion the root key still unwraps,
	// or Key Protect answered something other than "destroyed": nothing
	// proves the shred. The message says what Key Protect answered.
	ErrTypeShredUnproven = "ShredUnproven"
	// ErrTypeStorageUnsupported: a node agent's storage cannot be
	// encrypted with fscrypt (wrong filesystem, no encrypt feature, no
	// privilege); the message names the cause and the fix. A node is never
	// placed on plaintext storage instead.
	ErrTypeStorageUnsupported = "StorageUnsupported"
	// ErrTypeNodeNotServing: a node's server is not serving, for example
	// because its key was suspended; the message says how to bring it back.
	ErrTypeNodeNotServing = "NodeNotServing"
	// ErrTypeInstanceBusy: another operation runs on the instance; the
	// message names its workflow and operation, and says to wait for it.
	ErrTypeInstanceBusy = "InstanceBusy"
	// ErrTypeKPInstanceNotFound: the Key Protect instance does not exist,
	// or the operator identity cannot read it; nothing was created.
	ErrTypeKPInstanceNotFound = "KPInstanceNotFound"
)

// RetryTypeDualAuthPending is the type of a retryable application error:
// Key Protect refused to delete a dual-authorization key because a second
// user has not yet authorized the deletion. The workflow's retry policy
// keeps asking until the authorization arrives or the wait expires.
const RetryTypeDualAuthPending = "DualAuthPending"

// RetryTypeAttemptAbandoned is the type of a retryable application error:
// the worker that ran the attempt died (a node agent killed, a host
// rebooted), and its restarted self failed the attempt on its behalf so
// that Temporal retries it at once instead of waiting for its heartbeat
// timeout.
const RetryTypeAttemptAbandoned = "AttemptAbandoned"

// RetryTypeNodeComingBack is the type of a retryable application error: the
// node agent restarted and has not yet brought the node back (its DEK is
// not unwrapped yet, Key Protect may be slow or down); a retry finds it
// back.
const RetryTypeNodeComingBack = "NodeComingBack"

// NonRetryableErrorTypes lists every ErrType constant, for
// temporal.RetryPolicy.NonRetryableErrorTypes.
func NonRetryableErrorTypes() []string {
	return []string{
		ErrTypeInvalidInput, ErrTypeServiceNotAuthorized, ErrTypeAccessDenied,
		ErrTypeKeyNotFound, ErrTypeNotRootKey, ErrTypeKeyNotActive,
		ErrTypeKeyDestroyed, ErrTypeKeySuspended, ErrTypeRotationTooSoon, ErrTypeKeyMaterialRequired,
		ErrTypeInstanceExists, ErrTypeInstanceNotFound, ErrTypeInstanceNotActive,
		ErrTypeNoNodeHosts, ErrTypeNodeDeadline, ErrTypeNodeKeyMismatch,
		ErrTypeKeySlotConflict, ErrTypeKeySlotInvalid, ErrTypeKeySlotMissing,
		ErrTypeBackupUnrecoverable, ErrTypeBackupCorrupt, ErrTypeBackupNotFound,
		ErrTypeKeyInUse, ErrTypeBackupsRetained, ErrTypeApprovalExpired,
		ErrTypeKeyDeletionBlocked, ErrTypeForeignRegistrations, ErrTypeApprovalNotProven,
		ErrTypeShredUnproven, ErrTypeStorageUnsupported,
		ErrTypeNodeNotServing, ErrTypeInstanceBusy, ErrTypeKPInstanceNotFound,
		ErrTypeBackupPruned, ErrTypeFleetIncomplete,
	}
}

// NewError returns a non-retryable application error of errType. message is
// lower case, in "verb object: cause" form, names the ids and says what to do.
func NewError(errType, message string, cause error) error {
	return temporal.NewNonRetryableApplicationError(message, errType, cause)
}

// DualAuthRetryDelay is how long a root key deletion that Key Protect
// refused for want of its second authorization waits before it asks again,
// after its attempt-th attempt: a minute, doubling up to 15 minutes. The
// delay rides on the error (NextRetryDelay), so the step's other failures
// (a worker that died, a 503) are retried at the usual pace.
func DualAuthRetryDelay(attempt int32) time.Duration {
	doublings := min(max(attempt-1, 0), 4) // 16 minutes already passes the most
	return min(time.Minute<<doublings, 15*time.Minute)
}

// NewDualAuthPending returns the retryable RetryTypeDualAuthPending error
// of a deletion's attempt-th attempt, retried after
// DualAuthRetryDelay(attempt). Its message follows NewError's rules.
func NewDualAuthPending(message string, attempt int32) error {
	return temporal.NewApplicationErrorWithOptions(message, RetryTypeDualAuthPending,
		temporal.ApplicationErrorOptions{NextRetryDelay: DualAuthRetryDelay(attempt)})
}

// NewRetryableError returns an application error of errType that Temporal
// retries, for a condition that is expected to clear (for example
// RetryTypeDualAuthPending). Its message follows NewError's rules.
func NewRetryableError(errType, message string, cause error) error {
	return temporal.NewApplicationErrorWithCause(message, errType, cause)
}

// ErrorType returns the type of the first application error in err's chain
// (for example ErrTypeKeyNotFound), or "" when there is none.
func ErrorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}
