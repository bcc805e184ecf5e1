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

// SignalApprove is the signal that approves a crypto-shred waiting for a
// second person (ShredInput.RequireApproval). Its value is an ApproveSignal.
const SignalApprove = "approve"

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
	// RequireApproval makes the workflow wait for SignalApprove from a
	// principal other than RequestedBy before destroying anything.
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
	var approval, requester error
	if in.ApprovalTimeout.D() < time.Minute {
		approval = fmt.Errorf("validate approval timeout %s: give at least 1m, or leave it unset for %s",
			in.ApprovalTimeout, DefaultApprovalTimeout)
	}
	if in.RequireApproval && in.RequestedBy == "" {
		requester = errors.New("validate requester: an approval must come from someone other than the " +
			"requester, so name the requester (RequestedBy)")
	}
	return errors.Join(ValidateInstanceName(in.InstanceID), ValidateNodeDeadline(in.NodeDeadline.D()),
		approval, requester)
}

// ApproveSignal is the value of SignalApprove: who approves.
type ApproveSignal struct {
	Principal string `json:"principal"`
	Comment   string `json:"comment"`
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
	WorkflowID  string      `json:"workflowId"`
	RunID       string      `json:"runId"`
	StartedAt   time.Time   `json:"startedAt"`
	CompletedAt time.Time   `json:"completedAt"`
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
