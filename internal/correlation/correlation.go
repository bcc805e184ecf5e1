// Package correlation ties every Key Protect call made for a workflow to
// that workflow: the call carries a correlation id derived from the
// workflow run (ID), which Key Protect records with the call (its
// correlation-id header, the id IBM Cloud Activity Tracker shows) and
// byokflow's audit events record too, so that the two records can be
// laid side by side (`starter audit`).
//
// Interceptor puts the id on the context of every activity a worker runs,
// control plane and node agents alike, where keyprotect-go-client finds
// it (kp.NewContextWithCorrelationID); calls made outside a workflow get
// the client's random id.
//
// It imports the Temporal SDK, keyprotect-go-client and uuid, nothing of
// ours.
package correlation

import (
	"context"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// Namespace is the UUID v5 namespace of byokflow's correlation ids.
var Namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:byokflow:workflow-run"))

// ID is the correlation id of one workflow run: the UUID v5 of
// "workflowID/runID" in Namespace. A run id is a UUID, so the name is
// unambiguous; anyone holding the two ids can recompute it.
func ID(workflowID, runID string) uuid.UUID {
	return uuid.NewSHA1(Namespace, []byte(workflowID+"/"+runID))
}

// FromContext is the correlation id on ctx, or "" when there is none.
func FromContext(ctx context.Context) string {
	if id := kp.GetCorrelationID(ctx); id != nil {
		return id.String()
	}
	return ""
}

// Interceptor returns a worker interceptor that runs every activity with
// the correlation id of its workflow run on its context.
func Interceptor() interceptor.WorkerInterceptor { return &correlate{} }

type correlate struct {
	interceptor.WorkerInterceptorBase
}

func (*correlate) InterceptActivity(_ context.Context,
	next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	in := &inbound{}
	in.Next = next
	return in
}

type inbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (i *inbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	run := activity.GetInfo(ctx).WorkflowExecution
	id := ID(run.ID, run.RunID)
	return i.Next.ExecuteActivity(kp.NewContextWithCorrelationID(ctx, &id), in)
}
