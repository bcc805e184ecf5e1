package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// maxReasonLen bounds the failure reason stored in the catalog.
const maxReasonLen = 2000

// MarkInstanceFailed compensates CreateInstanceRecord: it marks the record
// failed with the reason, which frees the name for a new provision
// (CreateInstanceRecord replaces a failed record, nodes included). The
// nodes and their key-status history are kept until then, for audit:
// deleting the nodes would delete their history with them. A missing
// record is success, so the compensation may be retried; with
// in.WorkflowID, so is a record another run created (the compensation is
// pushed before the record is made, and must leave a live instance alone).
func (a *Activities) MarkInstanceFailed(ctx context.Context, in contract.MarkInstanceFailedInput) error {
	verb := fmt.Sprintf("mark instance %q failed", in.InstanceID)
	reason := truncate(in.Reason)
	if in.WorkflowID != "" {
		rec, err := a.catalog.GetInstance(ctx, in.InstanceID)
		if errors.Is(err, catalog.ErrNotFound) || (err == nil && rec.WorkflowID != in.WorkflowID) {
			return nil // never made, or another run's: nothing of this run to undo
		}
		if err != nil {
			return a.catalogError(err, verb)
		}
	}
	err := a.catalog.SetInstanceState(ctx, in.InstanceID, catalog.InstanceFailed, reason)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil
	}
	if err != nil {
		return a.catalogError(err, verb)
	}
	return a.auditOrRetry(ctx, verb, auditEntry{operation: "instance.failed", instanceID: in.InstanceID,
		detail: map[string]any{"reason": reason}})
}

// truncate bounds a failure reason to maxReasonLen bytes of valid UTF-8.
func truncate(reason string) string {
	if len(reason) <= maxReasonLen {
		return reason
	}
	return strings.ToValidUTF8(reason[:maxReasonLen], "") + "..."
}

// MarkInstanceActive records that every node reported active under
// in.KeyVersionID: the instance becomes active with that current version.
func (a *Activities) MarkInstanceActive(ctx context.Context, in contract.MarkInstanceActiveInput) error {
	verb := fmt.Sprintf("mark instance %q active", in.InstanceID)
	if err := a.setKeyVersion(ctx, in.InstanceID, in.KeyVersionID, verb); err != nil {
		return err
	}
	if err := a.catalog.SetInstanceState(ctx, in.InstanceID, catalog.InstanceActive, ""); err != nil {
		return a.catalogError(err, verb)
	}
	return a.auditOrRetry(ctx, verb, auditEntry{operation: "instance.active", instanceID: in.InstanceID,
		key: in.KeyVersionID, detail: map[string]any{"keyVersionId": in.KeyVersionID}})
}

// RecordKeyVersion records that every node of the instance reported
// in.KeyVersionID, the instance's new current version after a rotation.
func (a *Activities) RecordKeyVersion(ctx context.Context, in contract.RecordKeyVersionInput) error {
	verb := fmt.Sprintf("record key version %s of instance %q", in.KeyVersionID, in.InstanceID)
	if err := a.setKeyVersion(ctx, in.InstanceID, in.KeyVersionID, verb); err != nil {
		return err
	}
	return a.auditOrRetry(ctx, verb, auditEntry{actor: in.RequestedBy, operation: "instance.key-version",
		instanceID: in.InstanceID, key: in.KeyVersionID, detail: map[string]any{"keyVersionId": in.KeyVersionID}})
}

// LoadInstance reads an instance record: its key, current key version,
// state, node placement, CRN and database; an instance marked by a failed
// compensation is needs_attention, with the mark. Fails InstanceNotFound.
func (a *Activities) LoadInstance(ctx context.Context, in contract.LoadInstanceInput) (contract.LoadInstanceResult, error) {
	var res contract.LoadInstanceResult
	verb := fmt.Sprintf("load instance %q", in.InstanceID)
	rec, err := a.catalog.GetInstance(ctx, in.InstanceID)
	if err != nil {
		return res, a.catalogError(err, verb)
	}
	nodes, err := a.catalog.ListNodes(ctx, in.InstanceID)
	if err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	res = contract.LoadInstanceResult{RootKeyID: rec.RootKeyID, KPInstanceID: rec.KPInstanceID,
		KeyVersionID: rec.KeyVersionID, Nodes: placements(nodes), State: instanceState(rec.State),
		InstanceCRN: rec.CRN, DatabaseName: rec.DatabaseName}
	if m := rec.Attention; m.Set() && rec.State != catalog.InstanceShredded {
		res.State = contract.InstanceNeedsAttention
		res.Attention = &contract.Attention{Operation: m.Operation, Step: m.Step, Subject: m.Subject,
			Error: m.Error, WorkflowID: m.WorkflowID, At: m.At}
	}
	return res, nil
}

// instanceState maps a catalog state to the contract's: provisioning is
// pending, rotating is still active (usable). Shredding and shredded pass
// through under their own names, which no workflow accepts as active.
func instanceState(s catalog.InstanceState) contract.InstanceState {
	switch s {
	case catalog.InstanceProvisioning:
		return contract.InstancePending
	case catalog.InstanceActive, catalog.InstanceRotating:
		return contract.InstanceActive
	case catalog.InstanceFailed:
		return contract.InstanceFailed
	}
	return contract.InstanceState(s)
}

func (a *Activities) setKeyVersion(ctx context.Context, instanceID, version, verb string) error {
	if version == "" {
		return contract.NewError(contract.ErrTypeInvalidInput, verb+": the key version id is empty", nil)
	}
	if err := a.catalog.SetInstanceKeyVersion(ctx, instanceID, version); err != nil {
		return a.catalogError(err, verb)
	}
	return nil
}

// auditOrRetry appends an audit event; failing, the activity is retried.
func (a *Activities) auditOrRetry(ctx context.Context, verb string, e auditEntry) error {
	if err := a.audit(ctx, e); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	return nil
}

// catalogError classifies a catalog error: an unknown instance and a state
// that forbids the change are permanent, anything else (the database
// unreachable) transient.
func (a *Activities) catalogError(err error, verb string) error {
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		return contract.NewError(contract.ErrTypeInstanceNotFound,
			fmt.Sprintf("%s: no such instance in the catalog: check the instance name", verb), nil)
	case errors.Is(err, catalog.ErrInvalidState):
		return contract.NewError(contract.ErrTypeInstanceNotActive, fmt.Sprintf("%s: %v", verb, err), nil)
	}
	return fmt.Errorf("%s: %w", verb, err)
}
