package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// WorkflowRuns tells whether a workflow run still runs: the worker's
// Temporal client.
type WorkflowRuns interface {
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (
		*workflowservice.DescribeWorkflowExecutionResponse, error)
}

var _ WorkflowRuns = client.Client(nil)

// UseWorkflowRuns gives the activities the worker's Temporal client, which
// AcquireInstanceOperation asks whether a lock's holder still runs.
// Without it a held lock is never taken over. Call it before Register.
func (a *Activities) UseWorkflowRuns(runs WorkflowRuns) { a.runs = runs }

// AcquireInstanceOperation locks the instance for the calling workflow
// run: one operation per instance at a time. A retry of the same run
// succeeds; the lock of a run Temporal no longer runs (or no longer
// knows) is taken over; a running holder fails InstanceBusy naming it.
func (a *Activities) AcquireInstanceOperation(ctx context.Context, in contract.AcquireInstanceOperationInput) (
	contract.AcquireInstanceOperationResult, error) {
	var res contract.AcquireInstanceOperationResult
	verb := fmt.Sprintf("%s instance %q", in.Operation, in.InstanceID)
	me := catalog.Operation{InstanceID: in.InstanceID, WorkflowID: in.WorkflowID, RunID: in.RunID,
		Operation: in.Operation}
	holder, err := a.catalog.AcquireOperation(ctx, me)
	if err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	if holder.Holds(me.WorkflowID, me.RunID) {
		return res, nil
	}
	if in.ParentWorkflowID != "" && holder.Holds(in.ParentWorkflowID, in.ParentRunID) {
		res.UnderParent = true
		return res, nil
	}
	running, err := a.stillRuns(ctx, holder)
	if err != nil {
		return res, fmt.Errorf("%s: ask Temporal about workflow %s: %w", verb, holder.WorkflowID, err)
	}
	if running {
		return res, instanceBusy(verb, holder)
	}
	took, err := a.catalog.TakeOverOperation(ctx, holder, me)
	if err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	if !took {
		// Another operation took it first: the retry sees who.
		return res, fmt.Errorf("%s: the lock changed hands while taking it over from workflow %s", verb, holder.WorkflowID)
	}
	res.TookOverFrom = holder.WorkflowID + "/" + holder.RunID
	return res, a.auditOrRetry(ctx, verb, auditEntry{operation: "instance.lock-taken-over", instanceID: in.InstanceID,
		key: in.RunID, detail: map[string]any{"from": res.TookOverFrom, "fromOperation": holder.Operation}})
}

// ReleaseInstanceOperation unlocks the instance if the run holds it.
func (a *Activities) ReleaseInstanceOperation(ctx context.Context, in contract.ReleaseInstanceOperationInput) error {
	return a.catalog.ReleaseOperation(ctx, in.InstanceID, in.WorkflowID, in.RunID)
}

// stillRuns asks Temporal whether the lock holder's run is still running.
// A run Temporal does not know (its history was removed) runs no more.
func (a *Activities) stillRuns(ctx context.Context, holder catalog.Operation) (bool, error) {
	if a.runs == nil {
		return true, nil
	}
	desc, err := a.runs.DescribeWorkflowExecution(ctx, holder.WorkflowID, holder.RunID)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return runStatus(desc) == enums.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

func runStatus(desc *workflowservice.DescribeWorkflowExecutionResponse) enums.WorkflowExecutionStatus {
	return desc.GetWorkflowExecutionInfo().GetStatus()
}

// instanceBusy is the refusal of an operation while holder runs.
func instanceBusy(verb string, holder catalog.Operation) error {
	msg := fmt.Sprintf("%s: another operation runs on the instance: workflow %s (%s, run %s, since %s): "+
		"wait for it to finish (follow it with `starter status --instance %s`, or open workflow %s in the "+
		"Web UI), then run this again", verb, holder.WorkflowID, holder.Operation, holder.RunID,
		holder.AcquiredAt.UTC().Format(time.RFC3339), holder.InstanceID, holder.WorkflowID)
	return contract.NewError(contract.ErrTypeInstanceBusy, msg, nil)
}

// MarkNeedsAttention records a compensation that failed, on the instance
// and in the audit trail. An instance not in the catalog (its record was
// never made) gets the audit event alone.
func (a *Activities) MarkNeedsAttention(ctx context.Context, in contract.MarkNeedsAttentionInput) error {
	verb := fmt.Sprintf("mark instance %q as needing attention", in.InstanceID)
	m := in.Attention
	m.Error = truncate(m.Error)
	err := a.catalog.SetAttention(ctx, in.InstanceID, catalog.Attention{Operation: m.Operation, Step: m.Step,
		Subject: m.Subject, Error: m.Error, WorkflowID: m.WorkflowID})
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("%s: %w", verb, err)
	}
	return a.auditOrRetry(ctx, verb, auditEntry{operation: "instance.needs-attention", instanceID: in.InstanceID,
		key: m.Step + "/" + m.Subject, detail: map[string]any{"operation": m.Operation, "step": m.Step,
			"subject": m.Subject, "error": m.Error}})
}

// ClearNeedsAttention removes the instance's mark after a re-run finished
// what the failed compensation left.
func (a *Activities) ClearNeedsAttention(ctx context.Context, in contract.ClearNeedsAttentionInput) error {
	verb := fmt.Sprintf("clear attention mark of instance %q", in.InstanceID)
	if err := a.catalog.ClearAttention(ctx, in.InstanceID); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	return a.auditOrRetry(ctx, verb, auditEntry{operation: "instance.attention-cleared", instanceID: in.InstanceID})
}

// CheckKPInstance reads one key of the Key Protect instance with the
// operator identity: an instance that does not exist, or that the
// operator may not read, fails KPInstanceNotFound before anything is
// created.
func (a *Activities) CheckKPInstance(ctx context.Context, in contract.CheckKPInstanceInput) error {
	verb := "check Key Protect instance"
	id, err := a.kpInstance(in.KPInstanceID, verb)
	if err != nil {
		return err
	}
	keys, err := a.keysFor(id, verb)
	if err != nil {
		return err
	}
	_, err = keys.GetKeys(ctx, 1, 0)
	return kpInstanceError(err, id, a.operatorOp(id, verb, id))
}

// kpInstanceError classifies the answer of the instance check: a refusal
// (400, 401, 403, 404) means the instance is not there for the operator.
func kpInstanceError(err error, id string, op kpOp) error {
	f, ok := kpFailureOf(err)
	if !ok || (f.status != http.StatusBadRequest && f.status != http.StatusUnauthorized &&
		f.status != http.StatusForbidden && f.status != http.StatusNotFound) {
		return classifyKP(err, op)
	}
	msg := fmt.Sprintf("check Key Protect instance %s: it does not exist, or the operator identity "+
		"(IBMCLOUD_API_KEY) cannot read it (%s); nothing was created: check the instance id "+
		"(`ibmcloud resource service-instance NAME --id`, or BYOK_KP_INSTANCE_ID) and that the operator has "+
		"Manager on it, then run again", id, f)
	return contract.NewError(contract.ErrTypeKPInstanceNotFound, msg, nil)
}
