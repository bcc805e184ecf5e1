package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// kpReadTimeout bounds the one metadata read of a root key per
// reconciliation: a Key Protect that does not answer in time is
// unreachable for this run, which suspends nothing.
const kpReadTimeout = 30 * time.Second

// ListReconcileTargets reads every live instance (active, rotating or
// key_destroyed) with its nodes' latest reports. An instance whose
// provision or restore left its rollback unfinished has no working nodes
// and is left to its operator.
func (a *Activities) ListReconcileTargets(ctx context.Context, _ contract.ListReconcileTargetsInput) (
	contract.ListReconcileTargetsResult, error) {
	var res contract.ListReconcileTargetsResult
	insts, err := a.catalog.LiveInstances(ctx)
	if err != nil {
		return res, fmt.Errorf("list instances to reconcile: %w: check the catalog database", err)
	}
	for _, in := range insts {
		if m := in.Attention; m.Set() && m.Operation != contract.OperationBackup {
			continue
		}
		nodes, err := a.catalog.LatestStatus(ctx, in.ID)
		if err != nil {
			return res, fmt.Errorf("list instances to reconcile: %w", err)
		}
		t := contract.ReconcileTarget{InstanceID: in.ID, RootKeyID: in.RootKeyID, KPInstanceID: in.KPInstanceID,
			KeyVersionID: in.KeyVersionID, State: instanceState(in.State),
			SuspendedBy: contract.SuspendCause(in.SuspendedBy), UnreachableSince: in.KPUnreachableSince,
			DegradedAt: in.KPDegradedAt}
		for _, n := range nodes {
			t.Nodes = append(t.Nodes, contract.ReconcileNode{NodeID: n.NodeID, State: contract.KeyState(n.State),
				KeyVersionID: n.KeyVersionID})
		}
		res.Instances = append(res.Instances, t)
	}
	return res, nil
}

// ReadReconcileKey reads the root key's metadata with the operator
// identity, one Key Protect call. It fails only when it cannot ask (a Key
// Protect instance this worker has no client for); whatever Key Protect
// answers is the result: its state and version, Destroyed (with its
// deletion date) or NotFound, which are authoritative, or a failure
// (timeout, 5xx, 429, IAM), which is not.
func (a *Activities) ReadReconcileKey(ctx context.Context, in contract.ReadReconcileKeyInput) (contract.KPKey, error) {
	op := a.operatorOp(in.KPInstanceID, "read state of root key", in.RootKeyID)
	keys, err := a.keysFor(in.KPInstanceID, op.subject())
	if err != nil {
		return contract.KPKey{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, kpReadTimeout)
	defer cancel()
	key, err := keys.GetKeyMetadata(rctx, in.RootKeyID)
	if err != nil {
		return unanswered(classifyKP(err, op)), nil
	}
	s := rootKeyState(in.RootKeyID, key)
	return contract.KPKey{Authoritative: true, State: s.State, StateName: s.StateName,
		KeyVersionID: s.KeyVersionID, DeletionDate: s.DeletionDate}, nil
}

// unanswered is the result of a failed metadata read: Key Protect's
// authoritative "no such key" or "destroyed", or no answer at all.
func unanswered(err error) contract.KPKey {
	switch contract.ErrorType(err) {
	case contract.ErrTypeKeyNotFound:
		return contract.KPKey{Authoritative: true, NotFound: true, StateName: "not found"}
	case contract.ErrTypeKeyDestroyed:
		return contract.KPKey{Authoritative: true, State: contract.KPStateDestroyed, StateName: "Destroyed"}
	}
	return contract.KPKey{StateName: "unreachable", Error: errorMessage(err)}
}

// RecordReconcile records one instance's reaction: the instance state it
// moves to, the unreachable / degraded marks and the nodes' reports that
// go with them, and the audit event "reconcile.ACTION" naming the Key
// Protect state it saw. While Key Protect stays unreachable only the first
// run and the one that raises it write an event.
func (a *Activities) RecordReconcile(ctx context.Context, in contract.RecordReconcileInput) error {
	verb := fmt.Sprintf("record reconciliation of instance %q", in.InstanceID)
	if in.SetState != "" {
		if err := a.catalog.SetInstanceState(ctx, in.InstanceID, catalogState(in.SetState), ""); err != nil {
			return a.catalogError(err, verb)
		}
	}
	audit := true
	switch {
	case in.Unreachable:
		fresh, err := a.catalog.MarkKPUnreachable(ctx, in.InstanceID, time.Now().UTC(), in.Raise)
		if err != nil {
			return err
		}
		audit = fresh || in.Raise
		detail := fmt.Sprintf("Key Protect unreachable: serving from the DEK in memory (grace %s)", in.Grace)
		if err := a.reportNodes(ctx, in.InstanceID, catalog.KeyActive, contract.KeyUnreachable, detail); err != nil {
			return err
		}
	case in.Reachable:
		if err := a.catalog.ClearKPUnreachable(ctx, in.InstanceID); err != nil {
			return err
		}
		detail := "Key Protect answers again: root key " + in.KeyState
		if err := a.reportNodes(ctx, in.InstanceID, catalog.KeyUnreachable, contract.KeyActive, detail); err != nil {
			return err
		}
	}
	if !audit {
		return nil
	}
	op := "reconcile." + string(in.Action)
	if in.Raise {
		op = "reconcile.kp-unreachable-beyond-grace"
	}
	return a.auditOrRetry(ctx, verb, auditEntry{actor: systemActor, operation: op, instanceID: in.InstanceID,
		rootKeyID: in.RootKeyID, key: in.Outcome, detail: map[string]any{"keyProtectState": in.KeyState,
			"reason": in.Reason, "outcome": in.Outcome, "workflowRunId": runID(ctx)}})
}

// reportNodes appends, for every node whose latest report is in state
// from, a copy of it in state to: the node serves as before, and the
// Nodes page says what the control plane knows of its key.
func (a *Activities) reportNodes(ctx context.Context, instanceID string, from catalog.KeyState,
	to contract.KeyState, detail string) error {
	nodes, err := a.catalog.LatestStatus(ctx, instanceID)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if !n.Reported || n.State != from {
			continue
		}
		_, err := a.catalog.AppendReport(ctx, catalog.KeyStatusReport{InstanceID: instanceID, NodeID: n.NodeID,
			RootKeyID: n.RootKeyID, KeyVersionID: n.KeyVersionID, State: catalog.KeyState(to),
			CheckValue: n.CheckValue, Detail: detail, ReportedAt: time.Now().UTC(), Server: n.Server})
		if err != nil {
			return fmt.Errorf("report node %s of instance %s %s: %w", n.NodeID, instanceID, to, err)
		}
	}
	return nil
}

// RecordSuspension records who suspended the instance, or clears it.
func (a *Activities) RecordSuspension(ctx context.Context, in contract.RecordSuspensionInput) error {
	if err := a.catalog.SetSuspendedBy(ctx, in.InstanceID, string(in.Cause)); err != nil {
		return a.catalogError(err, fmt.Sprintf("record who suspended instance %q", in.InstanceID))
	}
	return nil
}

// catalogState maps the contract's instance states the reconciliation
// sets to the catalog's.
func catalogState(s contract.InstanceState) catalog.InstanceState {
	if s == contract.InstanceKeyDestroyed {
		return catalog.InstanceKeyDestroyed
	}
	return catalog.InstanceState(s)
}

func runID(ctx context.Context) string {
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	return ""
}

// errorMessage is a classified error's message without its cause chain.
func errorMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
