package contract

import (
	"errors"
	"fmt"
	"time"
)

// WorkflowReconcileKeys compares, once per run, the state and version of
// every root key in use with the catalog and reacts per instance with
// child workflows (RotateRootKey rewrap-only, SuspendInstance,
// ResumeInstance, RemoveKeyDestroyedStorage). A Temporal Schedule starts it
// every interval.
const WorkflowReconcileKeys = "ReconcileKeys"

// WorkflowRemoveKeyDestroyedStorage removes the node storage of an instance
// whose root key was destroyed longer ago than KeyRestoreWindow: every node
// stops its server, removes its fscrypt key, destroys its key slot and
// deletes its ciphertext (the shred node step), and the instance becomes
// shredded. Only ReconcileKeys starts it.
const WorkflowRemoveKeyDestroyedStorage = "RemoveKeyDestroyedStorage"

// Operations of the reconciliation, for ByokOperation and the instance lock.
const (
	OperationReconcile     = "reconcile"
	OperationRemoveStorage = "remove-storage"
)

// Control-plane activities of the reconciliation.
const (
	// ActivityListReconcileTargets reads from the catalog every live
	// instance (active or key_destroyed), with its nodes' latest reports.
	ActivityListReconcileTargets = "ListReconcileTargets"
	// ActivityReadReconcileKey reads one root key's state and version in
	// Key Protect with one call (the operator identity), and never fails
	// for Key Protect's own failures: they come back Reachable false.
	ActivityReadReconcileKey = "ReadReconcileKey"
	// ActivityRecordReconcile records what the reconciliation saw and did
	// for one instance: the audit event, the instance marks and the nodes'
	// unreachable / active reports.
	ActivityRecordReconcile = "RecordReconcile"
	// ActivityRecordSuspension records who suspended an instance (an
	// operator or the reconciliation on a disabled or destroyed key), or
	// clears it once resumed.
	ActivityRecordSuspension = "RecordSuspension"
)

// Reconciliation defaults.
const (
	// DefaultReconcileGrace is how long nodes keep serving from the DEK
	// in memory while Key Protect does not answer before the
	// reconciliation raises it (still without suspending).
	DefaultReconcileGrace = time.Hour
	// DefaultReconcileMaxReactions bounds the child workflows of one run;
	// the rest wait for the next run.
	DefaultReconcileMaxReactions = 20
	// KeyRestoreWindow is how long Key Protect lets a deleted key be
	// restored, from its deletion date.
	KeyRestoreWindow = 30 * 24 * time.Hour
)

// SuspendCause says who suspended an instance; the reconciliation resumes
// only the instances it suspended itself.
type SuspendCause string

// Suspend causes. The empty cause is an operator's (starter suspend).
const (
	SuspendedByOperator     SuspendCause = "operator"
	SuspendedByKeyDisabled  SuspendCause = "key_disabled"
	SuspendedByKeyDestroyed SuspendCause = "key_destroyed"
)

// ByKey reports whether the cause is the root key's state in Key Protect
// (the reconciliation resumes such an instance once the key is Active).
func (c SuspendCause) ByKey() bool {
	return c == SuspendedByKeyDisabled || c == SuspendedByKeyDestroyed
}

// InstanceKeyDestroyed: the root key is destroyed in Key Protect; the nodes
// stay locked until the key is restored (within KeyRestoreWindow) or the
// window ends and their storage is removed.
const InstanceKeyDestroyed InstanceState = "key_destroyed"

// ReconcileInput is the input of WorkflowReconcileKeys.
type ReconcileInput struct {
	// Grace is how long nodes serve while Key Protect does not answer
	// before the run raises it; 0 means DefaultReconcileGrace.
	Grace Duration `json:"grace"`
	// MaxReactions bounds the child workflows of one run; 0 means
	// DefaultReconcileMaxReactions.
	MaxReactions int `json:"maxReactions"`
	// NodeDeadline is passed to the children; 0 means DefaultNodeDeadline.
	NodeDeadline Duration `json:"nodeDeadline"`
	RequestedBy  string   `json:"requestedBy"`
}

// WithDefaults returns in with zero fields replaced by the defaults.
func (in ReconcileInput) WithDefaults() ReconcileInput {
	if in.Grace == 0 {
		in.Grace = Duration(DefaultReconcileGrace)
	}
	if in.MaxReactions == 0 {
		in.MaxReactions = DefaultReconcileMaxReactions
	}
	in.NodeDeadline = withDefaultDeadline(in.NodeDeadline)
	return in
}

// Validate checks in after WithDefaults and returns every problem found.
func (in ReconcileInput) Validate() error {
	var errs []error
	if in.Grace < 0 {
		errs = append(errs, fmt.Errorf("grace %s is negative: use 0 for the default (%s)", in.Grace,
			DefaultReconcileGrace))
	}
	if in.MaxReactions < 0 || in.MaxReactions > 500 {
		errs = append(errs, fmt.Errorf("max reactions %d is out of range 1..500", in.MaxReactions))
	}
	return errors.Join(append(errs, ValidateNodeDeadline(in.NodeDeadline.D()))...)
}

// ReconcileAction is what the reconciliation did for one instance.
type ReconcileAction string

// Reconcile actions.
const (
	ReconcileNone          ReconcileAction = "none"
	ReconcileRewrap        ReconcileAction = "rewrap"         // RotateRootKey rewrap-only
	ReconcileSuspend       ReconcileAction = "suspend"        // SuspendInstance
	ReconcileResume        ReconcileAction = "resume"         // ResumeInstance
	ReconcileMarkDestroyed ReconcileAction = "mark_destroyed" // instance key_destroyed, nodes already locked
	ReconcileRemoveStorage ReconcileAction = "remove_storage" // RemoveKeyDestroyedStorage
	ReconcileUnreachable   ReconcileAction = "unreachable"    // nodes report unreachable, keep serving
	ReconcileReachable     ReconcileAction = "reachable"      // nodes report active again
)

// ReconcileResult is what one run saw per key and did per instance.
type ReconcileResult struct {
	Keys      []ReconcileKeyResult      `json:"keys"`
	Instances []ReconcileInstanceResult `json:"instances"`
	// Deferred names the instances whose reaction waits for the next run
	// (MaxReactions reached).
	Deferred []string `json:"deferred,omitempty"`
}

// ReconcileKeyResult is one root key as Key Protect answered.
type ReconcileKeyResult struct {
	RootKeyID    string   `json:"rootKeyId"`
	KPInstanceID string   `json:"kpInstanceId"`
	Key          KPKey    `json:"key"`
	Instances    []string `json:"instances"`
}

// ReconcileInstanceResult is one instance's reaction. Outcome is "done",
// "skipped: …" (InstanceBusy: another operation holds the instance) or
// "failed: …"; Child names the child workflow.
type ReconcileInstanceResult struct {
	InstanceID string          `json:"instanceId"`
	RootKeyID  string          `json:"rootKeyId"`
	KeyState   string          `json:"keyState"`
	Action     ReconcileAction `json:"action"`
	Reason     string          `json:"reason"`
	Outcome    string          `json:"outcome"`
	Child      string          `json:"child,omitempty"`
	// Raised is set when Key Protect has not answered for longer than the
	// grace window (audit event and degraded mark; nothing suspended).
	Raised bool `json:"raised,omitempty"`
}

// ReconcileTarget is one live instance as the catalog has it.
type ReconcileTarget struct {
	InstanceID   string        `json:"instanceId"`
	RootKeyID    string        `json:"rootKeyId"`
	KPInstanceID string        `json:"kpInstanceId"`
	KeyVersionID string        `json:"keyVersionId"`
	State        InstanceState `json:"state"`
	SuspendedBy  SuspendCause  `json:"suspendedBy,omitempty"`
	// UnreachableSince is when a run first found Key Protect not
	// answering for this instance's key; DegradedAt when a run raised it.
	UnreachableSince time.Time       `json:"unreachableSince,omitzero"`
	DegradedAt       time.Time       `json:"degradedAt,omitzero"`
	Nodes            []ReconcileNode `json:"nodes"`
}

// ReconcileNode is a node's latest reported key state.
type ReconcileNode struct {
	NodeID       string   `json:"nodeId"`
	State        KeyState `json:"state"`
	KeyVersionID string   `json:"keyVersionId"`
}

// ListReconcileTargetsInput has no field; the activity reads every live
// instance.
type ListReconcileTargetsInput struct{}

// ListReconcileTargetsResult is every live instance, ordered by id.
type ListReconcileTargetsResult struct {
	Instances []ReconcileTarget `json:"instances"`
}

// ReadReconcileKeyInput names one root key.
type ReadReconcileKeyInput struct {
	RootKeyID    string `json:"rootKeyId"`
	KPInstanceID string `json:"kpInstanceId"`
}

// KPKey is a root key as Key Protect answered one metadata read.
// Authoritative is false when Key Protect did not answer (timeout, 5xx,
// 429, an IAM failure): then State is unknown and Error says why. NotFound
// is Key Protect's authoritative answer that the key does not exist.
type KPKey struct {
	Authoritative bool      `json:"authoritative"`
	State         int       `json:"state,omitempty"`
	StateName     string    `json:"stateName"`
	KeyVersionID  string    `json:"keyVersionId,omitempty"`
	DeletionDate  time.Time `json:"deletionDate,omitzero"`
	NotFound      bool      `json:"notFound,omitempty"`
	Error         string    `json:"error,omitempty"`
}

// RecordReconcileInput records one instance's reaction: an audit event
// "reconcile.ACTION" naming KeyState, and the marks that go with it.
type RecordReconcileInput struct {
	InstanceID string          `json:"instanceId"`
	RootKeyID  string          `json:"rootKeyId"`
	KeyState   string          `json:"keyState"`
	Action     ReconcileAction `json:"action"`
	Reason     string          `json:"reason"`
	Outcome    string          `json:"outcome"`
	// SetState, when set, moves the instance to that state (active or
	// key_destroyed).
	SetState InstanceState `json:"setState,omitempty"`
	// Unreachable sets the instance's unreachable-since mark (when not
	// set yet) and reports its active nodes unreachable; Reachable clears
	// the mark and reports its unreachable nodes active again. Raise sets
	// the degraded mark (the grace window is over).
	Unreachable bool `json:"unreachable,omitempty"`
	Reachable   bool `json:"reachable,omitempty"`
	Raise       bool `json:"raise,omitempty"`
	// Grace is the grace window, for the nodes' report detail.
	Grace Duration `json:"grace,omitempty"`
}

// RecordSuspensionInput records Cause as who suspended InstanceID; an empty
// Cause clears it (the instance was resumed). A key's cause never replaces
// an operator's.
type RecordSuspensionInput struct {
	InstanceID string       `json:"instanceId"`
	Cause      SuspendCause `json:"cause"`
}

// RemoveStorageInput is the input of WorkflowRemoveKeyDestroyedStorage.
type RemoveStorageInput struct {
	InstanceID   string    `json:"instanceId"`
	RootKeyID    string    `json:"rootKeyId"`
	DeletionDate time.Time `json:"deletionDate"`
	RequestedBy  string    `json:"requestedBy"`
	NodeDeadline Duration  `json:"nodeDeadline"`
}
