package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// newReport builds a report of node n from its slot (a zero Slot when the
// node has none). It carries ids, the key version and the check value only.
func (a *Agent) newReport(n nodeRef, slot Slot, state contract.KeyState, detail string) contract.NodeReport {
	return contract.NodeReport{
		InstanceID: n.InstanceID, NodeID: n.NodeID, Host: a.host,
		RootKeyID: slot.RootKeyID, KeyVersionID: slot.KeyVersionID, State: state,
		KeyCheckValue: slot.CheckValue, Detail: detail,
		ReportedAt: a.now().UTC().Truncate(time.Microsecond),
	}
}

// publish appends r to the catalog's key-status history and returns it as
// stored. A report without a root key (the node has no readable slot) gets
// the instance's root key from the catalog, which requires one. A node the catalog does not know is a permanent failure; anything
// else is retried.
func (a *Agent) publish(ctx context.Context, r contract.NodeReport) (contract.NodeReport, error) {
	var err error
	if r.RootKeyID == "" {
		// A node without a readable slot: the instance's root key.
		var inst catalog.Instance
		inst, err = a.catalog.GetInstance(ctx, r.InstanceID)
		r.RootKeyID = inst.RootKeyID
	}
	var stored catalog.KeyStatusReport
	if err == nil {
		stored, err = a.catalog.AppendReport(ctx, catalog.KeyStatusReport{
			InstanceID: r.InstanceID, NodeID: r.NodeID, RootKeyID: r.RootKeyID,
			KeyVersionID: r.KeyVersionID, State: catalog.KeyState(r.State),
			CheckValue: r.KeyCheckValue, Detail: r.Detail, ReportedAt: r.ReportedAt,
		})
	}
	what := fmt.Sprintf("record key status of node %s of instance %s", r.NodeID, r.InstanceID)
	if errors.Is(err, catalog.ErrNotFound) {
		return r, contract.NewError(contract.ErrTypeInstanceNotFound, what+
			": the catalog has no such node: the instance was removed or its provision "+
			"failed; provision it again", err)
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w: check the catalog database", what, err)
	}
	r.ReportedAt = stored.ReportedAt
	a.log.Info("key status reported", "instance", r.InstanceID, "node", r.NodeID,
		"root_key", r.RootKeyID, "key_version", r.KeyVersionID, "state", r.State,
		"check_value", r.KeyCheckValue, "detail", r.Detail)
	return r, nil
}

// publishBestEffort publishes r and only logs a failure: for reports that
// accompany an error the activity returns anyway, and for compensations.
func (a *Agent) publishBestEffort(ctx context.Context, r contract.NodeReport) {
	if _, err := a.publish(ctx, r); err != nil {
		a.log.Warn("key status not recorded", "instance", r.InstanceID, "node", r.NodeID,
			"state", r.State, "error", err)
	}
}

// fail handles a classified KeyWrapper error of op on node n: it flushes the
// DEK when the root key was revoked, reports the resulting state (best
// effort) and returns the activity's error.
func (a *Agent) fail(ctx context.Context, op string, n nodeRef, slot Slot, err error) error {
	f := classify(op, n, slot.RootKeyID, err)
	if f.flush && a.keys.flush(n) {
		a.log.Warn("DEK flushed from memory", "instance", n.InstanceID, "node", n.NodeID, "state", f.state)
	}
	a.publishBestEffort(ctx, a.newReport(n, slot, f.state, detailOf(f.err)))
	return f.err
}
