package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/internal/correlation"
)

// systemActor is the audit actor of steps no user asked for by name
// (compensations, completions).
const systemActor = "byokflow"

// auditEntry is one audit event; detail must hold no secret. audit adds
// the correlation id of the calling activity's workflow run.
type auditEntry struct {
	actor      string
	operation  string
	instanceID string
	rootKeyID  string
	workflowID string // default: the calling activity's workflow
	iamID      string // for a Key Protect call: the IAM id it was made with
	detail     map[string]any
	// key distinguishes events of one operation in one workflow (e.g. a
	// key version); with the workflow and operation it makes retries append
	// the event once.
	key string
	// everyCall makes every append an event of its own (no event key):
	// each Key Protect call is one, retried or not, as Key Protect records it.
	everyCall bool
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
		InstanceID: e.instanceID, RootKeyID: e.rootKeyID, WorkflowID: e.workflowID, Detail: detail,
		CorrelationID: correlation.FromContext(ctx), IAMID: e.iamID}
	if e.workflowID != "" && !e.everyCall {
		ev.EventKey = e.workflowID + "/" + e.operation + "/" + e.instanceID + "/" + e.key
	}
	_, err = a.catalog.AppendAudit(ctx, ev)
	return err
}
