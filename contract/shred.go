package contract

import (
	"errors"
	"fmt"
	"time"
)

// WorkflowCryptoShred is the registered name of the crypto-shred workflow.
const WorkflowCryptoShred = "CryptoShred"

// OperationShred is the ByokOperation search attribute value of CryptoShred.
const OperationShred = "shred"

// SignalApprove tells a crypto-shred waiting for a second person
// (ShredInput.RequireApproval) that an approver has set its root key for
// deletion in Key Protect. Its value is an ApproveSignal; the workflow
// believes Key Protect, not the signal.
const SignalApprove = "approve"

// QueryApproval answers an ApprovalState: whether the crypto-shred waits
// for approval, and of which key.
const QueryApproval = "approval"

// DefaultApprovalTimeout is how long CryptoShred waits for an approval, and
// for the second authorization of a dual-auth key deletion, when
// ShredInput.ApprovalTimeout is zero.
const DefaultApprovalTimeout = 24 * time.Hour

// Scopes of a crypto-shred, as ShredCertificate.Scope states them.
const (
	// ShredScopeInstanceAndKey: the nodes' keys and the root key were destroyed.
	ShredScopeInstanceAndKey = "instance and root key"
	// ShredScopeNodeKeysOnly: only the nodes' keys were destroyed; the root
	// key was kept (ShredInput.KeepRootKey).
	ShredScopeNodeKeysOnly = "node keys only; root key kept"
)

// ShredCertificateFormat names the format of ShredCertificate. v2 has
// camelCase keys and is what CryptoShred writes; v1, the same fields with
// Go's PascalCase names, is how certificates issued before it read. A
// certificate is never rewritten, so the catalog may hold both; this
// package decodes both.
const ShredCertificateFormat = "byokflow-shred-certificate/v2"

// ShredInput is the input of WorkflowCryptoShred.
type ShredInput struct {
	InstanceID string `json:"instanceId"`
	// KeepRootKey destroys only the instance's node keys and keeps the
	// root key, for a key other instances or backups still need.
	KeepRootKey bool `json:"keepRootKey"`
	// IncludeBackups acknowledges that the retained backups under the root
	// key become unrecoverable when it is deleted.
	IncludeBackups bool `json:"includeBackups"`
	// RequireApproval makes the workflow wait, before destroying
	// anything, until Key Protect shows the root key set for deletion
	// (dual authorization) by an IAM id other than the control plane's
	// operator identity, which then deletes it. Not with KeepRootKey.
	RequireApproval bool `json:"requireApproval"`
	// ApprovalTimeout bounds that wait, and the wait for the second
	// authorization of a dual-auth key; 0 means DefaultApprovalTimeout.
	ApprovalTimeout Duration `json:"approvalTimeout"`
	RequestedBy     string   `json:"requestedBy"`
	// NodeDeadline bounds the wait for each node agent; 0 means
	// DefaultNodeDeadline.
	NodeDeadline Duration `json:"nodeDeadline"`
}

// WithDefaults returns in with zero durations replaced by defaults.
func (in ShredInput) WithDefaults() ShredInput {
	if in.ApprovalTimeout == 0 {
		in.ApprovalTimeout = Duration(DefaultApprovalTimeout)
	}
	if in.NodeDeadline == 0 {
		in.NodeDeadline = Duration(DefaultNodeDeadline)
	}
	return in
}

// Validate checks in after WithDefaults and returns every problem found.
func (in ShredInput) Validate() error {
	var approval, kept error
	if in.ApprovalTimeout.D() < time.Minute {
		approval = fmt.Errorf("validate approval timeout %s: give at least 1m, or leave it unset for %s",
			in.ApprovalTimeout, DefaultApprovalTimeout)
	}
	if in.RequireApproval && in.KeepRootKey {
		kept = errors.New("validate approval: --require-approval is proven by Key Protect's dual authorization " +
			"of the root key's deletion, and --keep-root-key deletes no root key, so nothing could prove a second " +
			"person's approval: drop one of the two flags")
	}
	return errors.Join(ValidateInstanceName(in.InstanceID), ValidateNodeDeadline(in.NodeDeadline.D()),
		approval, kept)
}

// ApproveSignal is the value of SignalApprove: the IAM id the approver
// says set the key for deletion, and why. It carries no credential and
// proves nothing by itself: the workflow checks Key Protect.
type ApproveSignal struct {
	Principal string `json:"principal"`
	Comment   string `json:"comment"`
}

// ApprovalState is the answer of QueryApproval. Waiting is true while the
// crypto-shred waits for a second person; RequesterIAMID is the IAM id
// that will delete the key, which Key Protect does not let approve.
type ApprovalState struct {
	Waiting        bool      `json:"waiting"`
	RootKeyID      string    `json:"rootKeyId"`
	KPInstanceID   string    `json:"kpInstanceId"`
	RequesterIAMID string    `json:"requesterIamId"`
	Until          time.Time `json:"until,omitzero"`
}

// ShredApproval is the proven approval of a crypto-shred: the IAM id of
// the operator identity that deleted the root key (the requester) and the
// different IAM id that Key Protect recorded setting it for deletion.
type ShredApproval struct {
	RequesterIAMID string `json:"requesterIamId"`
	ApproverIAMID  string `json:"approverIamId"`
	// SetForDeletionAt is when Key Protect recorded the authorization;
	// AuthExpiration when it lapses.
	SetForDeletionAt time.Time `json:"setForDeletionAt"`
	AuthExpiration   time.Time `json:"authExpiration,omitzero"`
	// CorrelationID is the id of the approver's setKeyForDeletion call.
	CorrelationID string `json:"correlationId,omitempty"`
	Comment       string `json:"comment,omitempty"`
}

// ShredResult is the result of WorkflowCryptoShred. KeyDeleted is false
// with KeepRootKey. Certificate is the one stored in the catalog.
type ShredResult struct {
	InstanceID  string           `json:"instanceId"`
	RootKeyID   string           `json:"rootKeyId"`
	KeyDeleted  bool             `json:"keyDeleted"`
	Certificate ShredCertificate `json:"certificate"`
}

// ShredCertificate is the evidence of a crypto-shred, stored once in the
// catalog as JSON and never changed.
type ShredCertificate struct {
	Format      string `json:"format"`
	InstanceID  string `json:"instanceId"`
	InstanceCRN string `json:"instanceCrn"`
	RootKeyID   string `json:"rootKeyId"`
	// Scope is ShredScopeInstanceAndKey or ShredScopeNodeKeysOnly.
	Scope      string `json:"scope"`
	KeyDeleted bool   `json:"keyDeleted"`
	// Key is the root key's state as Key Protect reported it at the end.
	Key RootKeyState `json:"key"`
	// Nodes are the nodes' final reports, each `destroyed`.
	Nodes []NodeReport `json:"nodes"`
	// UnrecoverableBackups are the backups only the deleted key could open.
	UnrecoverableBackups []string `json:"unrecoverableBackups,omitempty"`
	// RestorableBackups stay restorable because the root key was kept.
	RestorableBackups []string `json:"restorableBackups,omitempty"`
	// Proof is the unwrap that failed after the deletion; nil when the key
	// was kept.
	Proof       *ShredProof `json:"proof,omitempty"`
	RequestedBy string      `json:"requestedBy"`
	ApprovedBy  string      `json:"approvedBy,omitempty"`
	// Approval is the approval proven by Key Protect (RequireApproval).
	Approval    *ShredApproval `json:"approval,omitempty"`
	WorkflowID  string         `json:"workflowId"`
	RunID       string         `json:"runId"`
	StartedAt   time.Time      `json:"startedAt"`
	CompletedAt time.Time      `json:"completedAt"`
	// Statement says in one sentence what was destroyed.
	Statement string `json:"statement"`
}

// RootKeyState is a root key as Key Protect reports it. State is Key
// Protect's number (1 Active, 2 Suspended, 3 Deactivated, 5 Destroyed).
type RootKeyState struct {
	RootKeyID      string `json:"rootKeyId"`
	State          int    `json:"state"`
	StateName      string `json:"stateName"`
	KeyVersionID   string `json:"keyVersionId"`
	DualAuthDelete bool   `json:"dualAuthDelete"`
	// Imported is true for a key created from the customer's own
	// material (Key Protect's imported flag).
	Imported     bool      `json:"imported"`
	DeletionDate time.Time `json:"deletionDate,omitzero"`
	DeletedBy    string    `json:"deletedBy,omitempty"`
}

// Key Protect key states, as RootKeyState.State reports them.
const (
	KPStateActive      = 1
	KPStateSuspended   = 2
	KPStateDeactivated = 3
	KPStateDestroyed   = 5
)

// ShredProof is the evidence that the root key is destroyed: Key Protect's
// answer to an unwrap of a ciphertext the key made before its deletion.
// CiphertextSHA256 identifies that ciphertext without repeating it.
type ShredProof struct {
	// Subject names the ciphertext, for example "backup orders-db-20300102T030405".
	Subject          string    `json:"subject"`
	RootKeyID        string    `json:"rootKeyId"`
	CiphertextSHA256 string    `json:"ciphertextSha256"`
	HTTPStatus       int       `json:"httpStatus"`
	ReasonCode       string    `json:"reasonCode"`
	Message          string    `json:"message"`
	At               time.Time `json:"at"`
}
