package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// FleetRotate rotates the root key of a fleet: the instances it names (a
// per-instance rotation schedule names one), every live instance on one
// root key, or every live instance. It runs one RotateRootKey child per
// instance (workflow id rotate-INSTANCE, the id `starter rotate` uses),
// at most Parallel at a time; each child takes its instance's lock
// itself. Instances sharing a root key rotate it once: the first of each
// key rotates it in Key Protect, and the others of that key start only
// after it, rewrap-only.
//
// An instance busy with another operation (InstanceBusy, or a rotation of
// it already running) is skipped and named in the result, not failed: the
// next scheduled run rotates it. After Batch children it continues as new
// with the instances left, so a fleet of any size keeps each history
// small; the tally carries over.
//
// Its errors: InvalidInput; the listing's (the catalog unreachable);
// FleetIncomplete, after every instance was tried, naming each instance
// that failed and its error (the schedule pauses on it: fix them, then
// unpause or trigger it).
func FleetRotate(ctx workflow.Context, in contract.FleetRotateInput) (contract.FleetRotateResult, error) {
	in = in.WithDefaults()
	instanceID, rootKeyID := in.Target()
	ctx, track, err := begin(ctx, contract.OperationFleetRotate, instanceID, in.Validate())
	if err != nil {
		return contract.FleetRotateResult{}, err
	}
	if rootKeyID != "" {
		if err := trackRootKey(ctx, track, rootKeyID); err != nil {
			return contract.FleetRotateResult{}, err
		}
	}
	pending, rewrapOnly := in.Pending, in.RewrapOnly
	if pending == nil {
		if pending, rewrapOnly, err = listFleet(ctx, in, track); err != nil {
			return contract.FleetRotateResult{}, err
		}
	}
	batch, rest := pending[:min(len(pending), in.Batch)], pending[min(len(pending), in.Batch):]
	tally := in.Tally
	tally.Runs++
	followers := map[string]bool{}
	for _, id := range rewrapOnly {
		followers[id] = true
	}
	leaders, rewraps := splitBatch(batch, followers)
	rotateFleet(ctx, in, leaders, false, &tally, track)
	rotateFleet(ctx, in, rewraps, true, &tally, track)
	if len(rest) > 0 {
		track.step(fmt.Sprintf("continue as new: %d instances left", len(rest)))
		next := in
		next.Pending, next.RewrapOnly, next.Tally = rest, rewrapOnly, tally
		return contract.FleetRotateResult{}, workflow.NewContinueAsNewError(ctx, contract.WorkflowFleetRotate, next)
	}
	track.step("done")
	res := contract.FleetRotateResult{Instances: tally.Rotated + tally.Rewrapped + len(tally.Skipped) +
		len(tally.Failed), Tally: tally}
	if len(tally.Failed) > 0 {
		return res, fleetIncomplete(res)
	}
	return res, nil
}

// listFleet lists the instances of a root key or of every live instance
// (named instances are the list), the first of each root key first, and
// the others of a key, which only rewrap once it rotated.
func listFleet(ctx workflow.Context, in contract.FleetRotateInput, track *tracker) (pending, rewrapOnly []string, err error) {
	if len(in.InstanceIDs) > 0 {
		return in.InstanceIDs, nil, nil
	}
	track.step("list instances")
	var res contract.ListFleetResult
	list := contract.ListFleetInput{RootKeyID: in.RootKeyID, All: in.All}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityListFleet, list).Get(ctx, &res); err != nil {
		return nil, nil, err
	}
	pending, rewrapOnly = fleetOrder(res)
	return pending, rewrapOnly, nil
}

// fleetOrder puts the first instance of each root key (which rotates it)
// before the others (which only rewrap), so that a fleet rotates each key
// once, whatever the parallelism.
func fleetOrder(res contract.ListFleetResult) (pending, rewrapOnly []string) {
	seen := map[string]bool{}
	var leaders []string
	for i, id := range res.InstanceIDs {
		key := ""
		if i < len(res.RootKeyIDs) {
			key = res.RootKeyIDs[i]
		}
		if key != "" && seen[key] {
			rewrapOnly = append(rewrapOnly, id)
			continue
		}
		seen[key] = true
		leaders = append(leaders, id)
	}
	return append(leaders, rewrapOnly...), rewrapOnly
}

// splitBatch splits a batch into the instances that rotate their key and
// those that only rewrap; the second start after the first finished.
func splitBatch(batch []string, followers map[string]bool) (leaders, rewraps []string) {
	for _, id := range batch {
		if followers[id] {
			rewraps = append(rewraps, id)
		} else {
			leaders = append(leaders, id)
		}
	}
	return leaders, rewraps
}

// rotateFleet runs a RotateRootKey child per instance, at most
// in.Parallel at once, and tallies each outcome.
func rotateFleet(ctx workflow.Context, in contract.FleetRotateInput, ids []string, rewrapOnly bool,
	tally *contract.FleetTally, track *tracker) {
	sel := workflow.NewSelector(ctx)
	running, next := 0, 0
	for next < len(ids) || running > 0 {
		for running < in.Parallel && next < len(ids) {
			id := ids[next]
			next++
			running++
			track.step(fmt.Sprintf("rotate %d of %d instances (%d running)", next, len(ids), running))
			rotate := contract.RotateInput{InstanceID: id, RewrapOnly: rewrapOnly, RequestedBy: in.RequestedBy,
				NodeDeadline: in.NodeDeadline}
			sel.AddFuture(startChild(ctx, "rotate-"+id, contract.WorkflowRotateRootKey, rotate), func(f workflow.Future) {
				running--
				var res contract.RotateResult
				tallyRotation(tally, id, f.Get(ctx, &res), res, track)
			})
		}
		sel.Select(ctx)
	}
}

// tallyRotation counts one child's outcome.
func tallyRotation(tally *contract.FleetTally, id string, err error, res contract.RotateResult, track *tracker) {
	switch reason := skipReason(err, "rotate-"+id); {
	case err == nil && res.Rotated:
		tally.Rotated++
	case err == nil:
		tally.Rewrapped++
	case reason != "":
		tally.Skipped = append(tally.Skipped, contract.FleetSkip{InstanceID: id, Reason: reason})
		track.note(id + ": " + reason)
	default:
		reason = errorDetail(err)
		if t := contract.ErrorType(err); t != "" {
			reason += " [" + t + "]"
		}
		tally.Failed = append(tally.Failed, contract.FleetSkip{InstanceID: id, Reason: reason})
		track.note(id + ": failed: " + reason)
	}
}

// fleetIncomplete is the error of a fleet rotation some instances failed.
func fleetIncomplete(res contract.FleetRotateResult) error {
	parts := make([]string, len(res.Tally.Failed))
	for i, f := range res.Tally.Failed {
		parts[i] = f.InstanceID + " (" + f.Reason + ")"
	}
	msg := fmt.Sprintf("rotate fleet: %d of %d instances failed: %s: fix each (its rotate-INSTANCE workflow "+
		"in the Web UI says why), then trigger the schedule again; the %d rotated stay rotated",
		len(parts), res.Instances, strings.Join(parts, "; "), res.Tally.Rotated+res.Tally.Rewrapped)
	return contract.NewError(contract.ErrTypeFleetIncomplete, msg, nil)
}
