package contract

import "time"

// One operation per instance at a time, and the mark of a failed
// compensation: the control-plane activities every workflow on an
// instance uses.
const (
	// ActivityAcquireInstanceOperation locks an instance for the calling
	// workflow run; ActivityReleaseInstanceOperation unlocks it.
	ActivityAcquireInstanceOperation = "AcquireInstanceOperation"
	ActivityReleaseInstanceOperation = "ReleaseInstanceOperation"
	// ActivityMarkNeedsAttention records a compensation that failed;
	// ActivityClearNeedsAttention removes the mark after a re-run.
	ActivityMarkNeedsAttention  = "MarkNeedsAttention"
	ActivityClearNeedsAttention = "ClearNeedsAttention"
	// ActivityCheckKPInstance checks, before anything is created, that
	// a Key Protect instance exists and the operator may read it.
	ActivityCheckKPInstance = "CheckKPInstance"
)

// AcquireInstanceOperationInput locks InstanceID for Operation by the
// workflow run WorkflowID/RunID. A retry of the same run succeeds; a lock
// held by a run that Temporal no longer runs (completed, failed, canceled,
// terminated, timed out) is taken over; a lock held by a running workflow
// fails ErrTypeInstanceBusy naming it.
type AcquireInstanceOperationInput struct {
	InstanceID string `json:"instanceId"`
	Operation  string `json:"operation"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	// ParentWorkflowID and ParentRunID name the parent of a child
	// workflow: a child whose parent holds the instance's lock (the
	// provision of a restore) runs under it and takes none.
	ParentWorkflowID string `json:"parentWorkflowId,omitempty"`
	ParentRunID      string `json:"parentRunId,omitempty"`
}

// AcquireInstanceOperationResult names the run whose lock was taken over,
// if any; UnderParent is true when the parent holds the lock.
type AcquireInstanceOperationResult struct {
	TookOverFrom string `json:"tookOverFrom,omitempty"`
	UnderParent  bool   `json:"underParent,omitempty"`
}

// ReleaseInstanceOperationInput unlocks InstanceID if the run
// WorkflowID/RunID holds it. Idempotent.
type ReleaseInstanceOperationInput struct {
	InstanceID string `json:"instanceId"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
}

// Attention is the durable mark of a compensation that failed: the
// instance needs an operator until a re-run of Operation clears it. Error
// is the failed step's message (never secret material).
type Attention struct {
	Operation  string    `json:"operation"`
	Step       string    `json:"step"`
	Subject    string    `json:"subject"`
	Error      string    `json:"error"`
	WorkflowID string    `json:"workflowId"`
	At         time.Time `json:"at"`
}

// MarkNeedsAttentionInput marks InstanceID (and appends an audit event):
// the compensation Attention.Step of Attention.Operation failed. An
// instance not in the catalog gets the audit event alone.
type MarkNeedsAttentionInput struct {
	InstanceID string    `json:"instanceId"`
	Attention  Attention `json:"attention"`
}

// ClearNeedsAttentionInput removes InstanceID's mark after a re-run
// finished what the failed compensation left. Idempotent.
type ClearNeedsAttentionInput struct {
	InstanceID string `json:"instanceId"`
}

// CheckKPInstanceInput checks that KPInstanceID (empty: the worker's
// default) exists and the operator identity may read its keys. Fails
// ErrTypeKPInstanceNotFound naming it; changes nothing.
type CheckKPInstanceInput struct {
	KPInstanceID string `json:"kpInstanceId"`
}
