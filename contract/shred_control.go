package contract

import "time"

// Control-plane activities of crypto-shredding (ControlTaskQueue).

// Registered names of the crypto-shred control-plane activities.
const (
	ActivityCheckShredGuards         = "CheckShredGuards"
	ActivityMarkInstanceShredding    = "MarkInstanceShredding"
	ActivityMarkInstanceShredded     = "MarkInstanceShredded"
	ActivityGetKeyState              = "GetKeyState"
	ActivityWrapProbe                = "WrapProbe"
	ActivityDeleteRootKey            = "DeleteRootKey"
	ActivityProveKeyDestroyed        = "ProveKeyDestroyed"
	ActivityMarkBackupsUnrecoverable = "MarkBackupsUnrecoverable"
	ActivityWriteShredCertificate    = "WriteShredCertificate"
	ActivityPrepareApproval          = "PrepareApproval"
	ActivityVerifyApproval           = "VerifyApproval"
)

// CheckShredGuardsInput checks, before anything is destroyed, what else
// depends on RootKeyID: other live (not failed, not shredded) instances
// fail ErrTypeKeyInUse unless KeepRootKey; complete backups fail
// ErrTypeBackupsRetained unless IncludeBackups or KeepRootKey (with the
// key kept they stay restorable); unless KeepRootKey, a resource of
// another service registered with the key in Key Protect fails
// ErrTypeForeignRegistrations, whatever the flags. It changes nothing.
type CheckShredGuardsInput struct {
	InstanceID     string `json:"instanceId"`
	RootKeyID      string `json:"rootKeyId"`
	InstanceCRN    string `json:"instanceCrn"`
	KPInstanceID   string `json:"kpInstanceId,omitempty"`
	KeepRootKey    bool   `json:"keepRootKey"`
	IncludeBackups bool   `json:"includeBackups"`
}

// CheckShredGuardsResult says what depends on the key. OtherInstances are
// the other live instances, RetainedBackups the complete backups under
// the key (both non-empty only when the input allowed them).
// Registrations are the CRNs Key Protect lists on the key (only when the
// key is to be deleted): this instance's, and those of byokflow instances
// the catalog knows are gone.
type CheckShredGuardsResult struct {
	OtherInstances  []string `json:"otherInstances"`
	RetainedBackups []string `json:"retainedBackups"`
	Registrations   []string `json:"registrations,omitempty"`
}

// PrepareApprovalInput puts the root key under Key Protect's
// dual-authorization delete policy (or finds it there), with the operator
// identity, before a crypto-shred waits for approval.
type PrepareApprovalInput struct {
	InstanceID   string `json:"instanceId"`
	RootKeyID    string `json:"rootKeyId"`
	KPInstanceID string `json:"kpInstanceId,omitempty"`
}

// PrepareApprovalResult names the requester: the IAM id of the operator
// identity that will delete the key. PolicyEnabled is true when this call
// enabled the policy (false: the key had it).
type PrepareApprovalResult struct {
	RequesterIAMID string `json:"requesterIamId"`
	PolicyEnabled  bool   `json:"policyEnabled"`
}

// VerifyApprovalInput asks Key Protect whether the root key is set for
// deletion by an IAM id other than RequesterIAMID, at or after NotBefore.
// A key not so set fails ErrTypeApprovalNotProven (not retryable: the
// workflow waits for the next approval).
type VerifyApprovalInput struct {
	InstanceID     string    `json:"instanceId"`
	RootKeyID      string    `json:"rootKeyId"`
	KPInstanceID   string    `json:"kpInstanceId,omitempty"`
	RequesterIAMID string    `json:"requesterIamId"`
	NotBefore      time.Time `json:"notBefore"`
	Comment        string    `json:"comment,omitempty"`
}

// MarkInstanceShreddingInput marks the instance shredding: from here on it
// is not usable, and a stopped crypto-shred is finished by running again.
type MarkInstanceShreddingInput struct {
	InstanceID  string `json:"instanceId"`
	RequestedBy string `json:"requestedBy"`
}

// MarkInstanceShreddedInput marks the instance shredded (terminal).
type MarkInstanceShreddedInput struct {
	InstanceID  string `json:"instanceId"`
	RequestedBy string `json:"requestedBy"`
}

// GetKeyStateInput reads a root key's state with the operator identity.
type GetKeyStateInput struct {
	RootKeyID string `json:"rootKeyId"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the default (the worker's BYOK_KP_INSTANCE_ID).
	KPInstanceID string `json:"kpInstanceId"`
}

// WrapProbeInput wraps a probe under RootKeyID with the operator identity,
// before the key is deleted, so that an unwrap of it can prove the
// deletion when no backup's wrapped DEK can. The probe is not a key: it
// protects nothing and its plaintext is public. Idempotent per instance:
// a probe wrapped before (kept in the audit trail) is returned.
type WrapProbeInput struct {
	InstanceID string `json:"instanceId"`
	RootKeyID  string `json:"rootKeyId"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the default (the worker's BYOK_KP_INSTANCE_ID).
	KPInstanceID string `json:"kpInstanceId"`
}

// WrapProbeResult is the wrapped probe, the AAD bound to it and the key
// version that wrapped it.
type WrapProbeResult struct {
	Ciphertext   []byte   `json:"ciphertext"`
	AAD          []string `json:"aad"`
	KeyVersionID string   `json:"keyVersionId"`
}

// DeleteRootKeyInput deletes the root key with the operator identity,
// forcing the deletion when registrations of finished instances remain.
// A key already deleted is success. A dual-auth key that a second user has
// not authorized fails with the retryable RetryTypeDualAuthPending; a
// registration with a retention policy fails ErrTypeKeyDeletionBlocked.
type DeleteRootKeyInput struct {
	RootKeyID   string `json:"rootKeyId"`
	InstanceID  string `json:"instanceId"`
	InstanceCRN string `json:"instanceCrn"`
	RequestedBy string `json:"requestedBy"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the default (the worker's BYOK_KP_INSTANCE_ID).
	KPInstanceID string `json:"kpInstanceId"`
}

// DeleteRootKeyResult says how the key was deleted.
type DeleteRootKeyResult struct {
	AlreadyDeleted bool      `json:"alreadyDeleted"`
	Forced         bool      `json:"forced"`
	DeletionDate   time.Time `json:"deletionDate"`
	DeletedBy      string    `json:"deletedBy"`
}

// ProveKeyDestroyedInput unwraps Ciphertext (made by RootKeyID before its
// deletion) with the operator identity and expects Key Protect to refuse
// because the key is destroyed. Anything else fails ErrTypeShredUnproven.
type ProveKeyDestroyedInput struct {
	RootKeyID  string   `json:"rootKeyId"`
	Subject    string   `json:"subject"`
	Ciphertext []byte   `json:"ciphertext"`
	AAD        []string `json:"aad"`
	// KPInstanceID is the Key Protect instance of RootKeyID; empty means
	// the default (the worker's BYOK_KP_INSTANCE_ID).
	KPInstanceID string `json:"kpInstanceId"`
}

// MarkBackupsUnrecoverableInput marks every kept backup under the deleted
// RootKeyID unrecoverable. Idempotent.
type MarkBackupsUnrecoverableInput struct {
	RootKeyID   string `json:"rootKeyId"`
	InstanceID  string `json:"instanceId"`
	RequestedBy string `json:"requestedBy"`
}

// MarkBackupsUnrecoverableResult lists the backups now unrecoverable.
type MarkBackupsUnrecoverableResult struct {
	BackupIDs []string `json:"backupIds"`
}

// WriteShredCertificateInput stores the certificate of an instance. The
// first certificate stored wins.
type WriteShredCertificateInput struct {
	Certificate ShredCertificate `json:"certificate"`
}

// WriteShredCertificateResult is the stored certificate; Existing is true
// when an earlier run had stored it.
type WriteShredCertificateResult struct {
	Certificate ShredCertificate `json:"certificate"`
	Existing    bool             `json:"existing"`
}
