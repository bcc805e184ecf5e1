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

// ShredCertificateFormat names the format of ShredCertificate.
const ShredCertificateFormat = "byokflow-shred-certificate/v1"

// ShredInput is the input of WorkflowCryptoShred.
type ShredInput struct {
	InstanceID string
	// KeepRootKey destroys only the instance's node keys and keeps the
	// root key, for a key other instances or backups still need.
	KeepRootKey bool
	// IncludeBackups acknowledges that the retained backups under the root
	// key become unrecoverable when it is deleted.
	IncludeBackups bool
	// RequireApproval makes the workflow wait for SignalApprove from a
	// principal other than RequestedBy before destroying anything.
	RequireApproval bool
	// ApprovalTimeout bounds that wait, and the wait for the second
	// authorization of a dual-auth key; 0 means DefaultApprovalTimeout.
	ApprovalTimeout Duration
	RequestedBy     string
	// NodeDeadline bounds the wait for each node agent; 0 means
	// DefaultNodeDeadline.
	NodeDeadline Duration
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
	Principal string
	Comment   string
}

// ShredResult is the result of WorkflowCryptoShred. KeyDeleted is false
// with KeepRootKey. Certificate is the one stored in the catalog.
type ShredResult struct {
	InstanceID  string
	RootKeyID   string
	KeyDeleted  bool
	Certificate ShredCertificate
}

// ShredCertificate is the evidence of a crypto-shred, stored once in the
// catalog as JSON and never changed.
type ShredCertificate struct {
	Format      string
	InstanceID  string
	InstanceCRN string
	RootKeyID   string
	// Scope is ShredScopeInstanceAndKey or ShredScopeNodeKeysOnly.
	Scope      string
	KeyDeleted bool
	// Key is the root key's state as Key Protect reported it at the end.
	Key RootKeyState
	// Nodes are the nodes' final reports, each `destroyed`.
	Nodes []NodeReport
	// UnrecoverableBackups are the backups only the deleted key could open.
	UnrecoverableBackups []string `json:",omitempty"`
	// RestorableBackups stay restorable because the root key was kept.
	RestorableBackups []string `json:",omitempty"`
	// Proof is the unwrap that failed after the deletion; nil when the key
	// was kept.
	Proof       *ShredProof `json:",omitempty"`
	RequestedBy string
	ApprovedBy  string `json:",omitempty"`
	WorkflowID  string
	RunID       string
	StartedAt   time.Time
	CompletedAt time.Time
	// Statement says in one sentence what was destroyed.
	Statement string
}

// RootKeyState is a root key as Key Protect reports it. State is Key
// Protect's number (1 Active, 2 Suspended, 3 Deactivated, 5 Destroyed).
type RootKeyState struct {
	RootKeyID      string
	State          int
	StateName      string
	KeyVersionID   string
	DualAuthDelete bool
	// Imported is true for a key created from the customer's own
	// material (Key Protect's imported flag).
	Imported     bool
	DeletionDate time.Time `json:",omitzero"`
	DeletedBy    string    `json:",omitempty"`
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
	Subject          string
	RootKeyID        string
	CiphertextSHA256 string
	HTTPStatus       int
	ReasonCode       string
	Message          string
	At               time.Time
}
