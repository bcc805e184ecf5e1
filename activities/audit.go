package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/byokflow/byokflow/catalog"
)

// systemActor is the audit actor of steps no user asked for by name
// (compensations, completions).
const systemActor = "byokflow"

// auditEntry is one audit event; detail must hold no secret.
type auditEntry struct {
	actor      string
	operation  string
	instanceID string
	rootKeyID  string
	workflowID string // default: the calling activity's workflow
	detail     map[string]any
	// key distinguishes events of one operation in one workflow (e.g. a
	// key version); with the workflow and operation it makes retries append
	// the event once.
	key string
}

// audit appends the entry once per workflow, operation and key.
func (a *Activities) audit(ctx context.Context, e auditEntry) error {
	if e.workflowID == "" && activity.IsActivity(ctx) {
		e.workflowID = activity.GetInfo(ctx).WorkflowExecution.ID
	}
	detail, err := json.Marshal(e.detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.operation, err)
	}
	ev := catalog.AuditEvent{Actor: cmp.Or(e.actor, systemActor), Operation: e.operation,
		InstanceID: e.instanceID, RootKeyID: e.rootKeyID, WorkflowID: e.workflowID, Detail: detail}
	if e.workflowID != "" {
		ev.EventKey = e.workflowID + "/" + e.operation + "/" + e.instanceID + "/" + e.key
	}
	_, err = a.catalog.AppendAudit(ctx, ev)
	return err
}
