package contract

import (
	"errors"
	"time"
)

// Defaults applied by WithDefaults.
const (
	// DefaultNodes is the node count of an instance when none is given.
	DefaultNodes = 3
	// MinNodes and MaxNodes bound the node count of an instance.
	MinNodes = 1
	MaxNodes = 9
	// DefaultNodeDeadline is how long a workflow waits for a node agent to
	// pick up its task before it fails with ErrTypeNodeDeadline.
	DefaultNodeDeadline = 4 * time.Hour
)

// ProvisionInput is the input of WorkflowProvisionEncryptedInstance.
type ProvisionInput struct {
	// InstanceID is the new instance's name; see ValidateInstanceName.
	InstanceID string `json:"instanceId"`
	// RootKeyID is the id (UUID) or alias of the customer's root key.
	RootKeyID string `json:"rootKeyId"`
	// KPInstanceID is the Key Protect instance (UUID) holding the root key.
	KPInstanceID string `json:"kpInstanceId"`
	// Nodes is the node count, MinNodes..MaxNodes; 0 means DefaultNodes.
	Nodes int `json:"nodes"`
	// CreateAuthorization lets the workflow create the missing IAM
	// service-to-service policy instead of failing.
	CreateAuthorization bool `json:"createAuthorization"`
	// RequestedBy names the operator, for the audit trail.
	RequestedBy string `json:"requestedBy"`
	// NodeDeadline bounds the wait for each node agent; 0 means
	// DefaultNodeDeadline.
	NodeDeadline Duration `json:"nodeDeadline"`
	// AdminVerifier is the SCRAM-SHA-256 verifier of the password of the
	// instance's AdminRole; the password stays with the operator.
	AdminVerifier string `json:"adminVerifier"`
	// AwaitData leaves the instance pending when its servers are up, for
	// a restore that marks it active once its data is loaded.
	AwaitData bool `json:"awaitData"`
}

// WithDefaults returns in with zero Nodes and NodeDeadline replaced by defaults.
func (in ProvisionInput) WithDefaults() ProvisionInput {
	if in.Nodes == 0 {
		in.Nodes = DefaultNodes
	}
	if in.NodeDeadline == 0 {
		in.NodeDeadline = Duration(DefaultNodeDeadline)
	}
	return in
}

// ProvisionResult is the result of WorkflowProvisionEncryptedInstance: every
// node's report, all active under KeyVersionID.
type ProvisionResult struct {
	InstanceID   string       `json:"instanceId"`
	InstanceCRN  string       `json:"instanceCrn"`
	RootKeyID    string       `json:"rootKeyId"`
	KeyVersionID string       `json:"keyVersionId"`
	Nodes        []NodeReport `json:"nodes"`
}

// RotateInput is the input of WorkflowRotateRootKey.
type RotateInput struct {
	InstanceID string `json:"instanceId"`
	// RewrapOnly skips the rotation in Key Protect (the key was rotated
	// outside byokflow, by policy or by hand) and only rewraps the nodes.
	RewrapOnly bool `json:"rewrapOnly"`
	// MaterialRotated says the operator has just rotated the (imported)
	// root key in Key Protect with new key material (starter rotate
	// --material-file): the workflow only rewraps, as with RewrapOnly, and
	// reports Rotated when the key moved past the recorded version. The
	// material itself never reaches the workflow.
	MaterialRotated bool   `json:"materialRotated"`
	RequestedBy     string `json:"requestedBy"`
	// NodeDeadline bounds the wait for each node agent; 0 means
	// DefaultNodeDeadline.
	NodeDeadline Duration `json:"nodeDeadline"`
}

// WithDefaults returns in with a zero NodeDeadline replaced by the default.
func (in RotateInput) WithDefaults() RotateInput {
	if in.NodeDeadline == 0 {
		in.NodeDeadline = Duration(DefaultNodeDeadline)
	}
	return in
}

// RotateResult is the result of WorkflowRotateRootKey. FromVersionID is the
// version recorded before the run; KeyVersionID the one every node now
// reports. Rotated is false when this run did not rotate (RewrapOnly, or the
// key had already moved past FromVersionID).
type RotateResult struct {
	InstanceID    string       `json:"instanceId"`
	RootKeyID     string       `json:"rootKeyId"`
	FromVersionID string       `json:"fromVersionId"`
	KeyVersionID  string       `json:"keyVersionId"`
	Rotated       bool         `json:"rotated"`
	Nodes         []NodeReport `json:"nodes"`
}

// NodeCheckInInput is the input of WorkflowNodeCheckIn: a node agent's host,
// its task queue, and the reports of the nodes it brought back at start-up.
type NodeCheckInInput struct {
	Host      string       `json:"host"`
	TaskQueue string       `json:"taskQueue"`
	Reports   []NodeReport `json:"reports"`
}

// NodeCheckInResult is what the catalog stored.
type NodeCheckInResult struct {
	Reports []NodeReport `json:"reports"`
	Unknown []string     `json:"unknown,omitempty"`
}

// SuspendInput is the input of WorkflowSuspendInstance: every node of the
// instance stops its server, removes its fscrypt key and zeroizes its DEK;
// key slots stay, so WorkflowResumeInstance can bring it back.
type SuspendInput struct {
	InstanceID  string `json:"instanceId"`
	Reason      string `json:"reason"`
	RequestedBy string `json:"requestedBy"`
	// Cause says who suspends: empty or SuspendedByOperator for an
	// operator (the reconciliation never resumes such an instance),
	// SuspendedByKeyDisabled or SuspendedByKeyDestroyed for the
	// reconciliation, which resumes the instance once the key is Active.
	Cause SuspendCause `json:"cause,omitempty"`
	// NodeDeadline bounds the wait for each node agent; 0 means
	// DefaultNodeDeadline.
	NodeDeadline Duration `json:"nodeDeadline"`
}

// WithDefaults returns in with a zero NodeDeadline replaced by the default.
func (in SuspendInput) WithDefaults() SuspendInput {
	in.NodeDeadline = withDefaultDeadline(in.NodeDeadline)
	return in
}

// Validate checks in after WithDefaults and returns every problem found.
func (in SuspendInput) Validate() error { return validateNodesInput(in.InstanceID, in.NodeDeadline) }

// ResumeInput is the input of WorkflowResumeInstance.
type ResumeInput struct {
	InstanceID   string   `json:"instanceId"`
	RequestedBy  string   `json:"requestedBy"`
	NodeDeadline Duration `json:"nodeDeadline"`
}

// WithDefaults returns in with a zero NodeDeadline replaced by the default.
func (in ResumeInput) WithDefaults() ResumeInput {
	in.NodeDeadline = withDefaultDeadline(in.NodeDeadline)
	return in
}

// Validate checks in after WithDefaults and returns every problem found.
func (in ResumeInput) Validate() error { return validateNodesInput(in.InstanceID, in.NodeDeadline) }

// withDefaultDeadline is d, or DefaultNodeDeadline when d is zero.
func withDefaultDeadline(d Duration) Duration {
	if d == 0 {
		return Duration(DefaultNodeDeadline)
	}
	return d
}

// validateNodesInput checks the input of a workflow that acts on every
// node of an instance.
func validateNodesInput(instanceID string, deadline Duration) error {
	return errors.Join(ValidateInstanceName(instanceID), ValidateNodeDeadline(deadline.D()))
}

// NodesResult is the result of the workflows that act on every node of an
// instance at once: every node's report.
type NodesResult struct {
	InstanceID string       `json:"instanceId"`
	Nodes      []NodeReport `json:"nodes"`
}
