package node

import (
	"context"
	"fmt"
	"time"

	"github.com/byokflow/byokflow/contract"
)

// The retries of Recover: the first after recoverFirst, each next twice as
// late, at most recoverMax apart, so that a node comes back within
// recoverMax of Key Protect coming back.
const (
	recoverFirst = time.Second
	recoverMax   = 15 * time.Second
)

// Pending returns, without calling Key Protect, a report for every node
// whose key slot the agent holds, for the agent's check-in at start: a
// node whose DEK is in memory (none, right after start) reports what
// ReportStatus would; a suspended one, suspended; any other, pending,
// until Recover has brought it back. Only a failure to read the slot
// store fails it.
func (a *Agent) Pending(ctx context.Context) ([]contract.NodeReport, error) {
	refs, err := a.slots.List()
	if err != nil {
		return nil, fmt.Errorf("list the nodes of host %s: %w", a.host, err)
	}
	reports := make([]contract.NodeReport, 0, len(refs))
	for _, ref := range refs {
		n := nodeRef(ref)
		slot, err := a.slots.Load(n.InstanceID, n.NodeID)
		if err != nil {
			continue // ReportStatus and Recover report it
		}
		k, live := a.keys.get(n)
		m, merr := readMeta(a.dirsOf(n))
		switch {
		case live:
			state, detail := stateOf(k)
			reports = append(reports, a.report(ctx, n, slot, state, detail))
		case merr == nil && m.Suspended != "":
			reports = append(reports, a.report(ctx, n, slot, contract.KeySuspended, m.Suspended))
		default:
			reports = append(reports, a.newReport(n, slot, contract.KeyPending,
				"node agent on host "+a.host+" started: unwrapping the key slot to bring the node back"))
		}
	}
	return reports, nil
}

// Recover brings back every node whose key slot the agent holds, the way
// ReportStatus does (unwrap, fscrypt key, server started or adopted), and
// hands the reports that changed to record, which sends them to the
// control plane. Nodes Key Protect could not vouch for yet (unreachable,
// or an error that may clear) are tried again with backoff until they
// come back or ctx ends; so are reports record failed to deliver. It
// returns when no node is left to bring back.
func (a *Agent) Recover(ctx context.Context, record func([]contract.NodeReport) error) {
	refs, err := a.slots.List()
	if err != nil {
		a.log.Error("bring nodes back", "error", err)
		return
	}
	todo := make([]nodeRef, len(refs))
	for i, ref := range refs {
		todo[i] = nodeRef(ref)
	}
	sent := map[nodeRef]string{}
	wait := backoff{first: recoverFirst, max: recoverMax}
	for len(todo) > 0 {
		var fresh []contract.NodeReport
		var retry []nodeRef
		for _, n := range todo {
			rep, err := a.restore(ctx, n)
			if err != nil {
				retry = append(retry, n)
				continue
			}
			if sent[n] != reportKey(rep) {
				fresh = append(fresh, rep)
			}
			if needsRetry(rep.State) {
				retry = append(retry, n)
			}
		}
		if len(fresh) > 0 {
			if err := record(fresh); err != nil {
				a.log.Warn("record the nodes' reports", "error", err)
				retry = appendMissing(retry, fresh)
			} else {
				for _, r := range fresh {
					sent[nodeRef{InstanceID: r.InstanceID, NodeID: r.NodeID}] = reportKey(r)
				}
			}
		}
		if todo = retry; len(todo) == 0 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait.next()):
		}
	}
	a.log.Info("nodes brought back", "key_slots", len(refs))
}

// needsRetry reports whether a node in state has to be brought back again:
// Key Protect unreachable, or an error that may clear (a server that did
// not start, a policy missing for a moment). Active, rewrap_required,
// suspended, destroyed and pending are settled.
func needsRetry(state contract.KeyState) bool {
	return state == contract.KeyUnreachable || state == contract.KeyError
}

// reportKey is what makes two reports of a node the same for recording.
func reportKey(r contract.NodeReport) string {
	return fmt.Sprintf("%s|%s|%t|%s", r.State, r.KeyVersionID, r.ServerUp, r.Replication)
}

// appendMissing adds the nodes of reports to refs, once.
func appendMissing(refs []nodeRef, reports []contract.NodeReport) []nodeRef {
	have := map[nodeRef]bool{}
	for _, n := range refs {
		have[n] = true
	}
	for _, r := range reports {
		if n := (nodeRef{InstanceID: r.InstanceID, NodeID: r.NodeID}); !have[n] {
			refs, have[n] = append(refs, n), true
		}
	}
	return refs
}

// backoff doubles from first up to max.
type backoff struct {
	first, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.first
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}
