package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// tracker keeps the answer to the progress query. Workflow code updates it
// between steps; the query handler returns a copy.
type tracker struct {
	p contract.Progress
}

func newTracker(operation, instanceID string) *tracker {
	return &tracker{p: contract.Progress{Operation: operation, InstanceID: instanceID}}
}

func (t *tracker) step(name string) { t.p.Step = name }

func (t *tracker) rootKey(id string) { t.p.RootKeyID = id }

// note records an event worth showing, such as a rejected approval.
func (t *tracker) note(msg string) { t.p.Notes = append(t.p.Notes, msg) }

// nodes lists the instance's nodes, none of them started.
func (t *tracker) nodes(placements []contract.NodePlacement) {
	t.p.Nodes = make([]contract.NodeProgress, len(placements))
	for i, n := range placements {
		t.p.Nodes[i] = contract.NodeProgress{NodeID: n.NodeID, Host: n.Host,
			State: contract.ProgressNotStarted}
	}
}

// waiting marks a node whose activity was scheduled at since.
func (t *tracker) waiting(nodeID string, since time.Time) {
	t.update(nodeID, func(n *contract.NodeProgress) {
		n.State, n.WaitingSince, n.Detail = contract.ProgressWaiting, since, ""
	})
}

// reported records a node's report.
func (t *tracker) reported(r contract.NodeReport) {
	t.update(r.NodeID, func(n *contract.NodeProgress) {
		n.State = contract.ProgressOf(r.State)
		n.KeyVersionID, n.ReportedAt, n.Detail = r.KeyVersionID, r.ReportedAt, r.Detail
	})
}

// stopped records a node that will not report in this run.
func (t *tracker) stopped(nodeID string, state contract.ProgressState, detail string) {
	t.update(nodeID, func(n *contract.NodeProgress) { n.State, n.Detail = state, detail })
}

func (t *tracker) update(nodeID string, fn func(*contract.NodeProgress)) {
	for i := range t.p.Nodes {
		if t.p.Nodes[i].NodeID == nodeID {
			fn(&t.p.Nodes[i])
		}
	}
}

// snapshot returns a copy that later updates do not change.
func (t *tracker) snapshot() contract.Progress {
	p := t.p
	p.Nodes = slices.Clone(t.p.Nodes)
	p.Notes = slices.Clone(t.p.Notes)
	return p
}

// begin is how every workflow starts: a non-retryable InvalidInput error
// for a bad input, else the progress query and search attributes of
// operation on instanceID; it returns the context of control-plane
// activities and the tracker.
func begin(ctx workflow.Context, operation, instanceID string, invalid error) (workflow.Context, *tracker, error) {
	if invalid != nil {
		return ctx, nil, invalidInput(invalid)
	}
	track := newTracker(operation, instanceID)
	if err := startTracking(ctx, track); err != nil {
		return ctx, nil, err
	}
	return withControl(ctx), track, nil
}

// startTracking registers the progress query and upserts the search
// attributes the Web UI filters on.
func startTracking(ctx workflow.Context, t *tracker) error {
	err := workflow.SetQueryHandler(ctx, contract.QueryProgress,
		func() (contract.Progress, error) { return t.snapshot(), nil })
	if err != nil {
		return err
	}
	return workflow.UpsertTypedSearchAttributes(ctx,
		contract.InstanceIDKey.ValueSet(t.p.InstanceID),
		contract.OperationKey.ValueSet(t.p.Operation))
}

// trackRootKey records the root key in progress and in the search attributes.
func trackRootKey(ctx workflow.Context, t *tracker, rootKeyID string) error {
	t.rootKey(rootKeyID)
	return workflow.UpsertTypedSearchAttributes(ctx, contract.RootKeyIDKey.ValueSet(rootKeyID))
}
