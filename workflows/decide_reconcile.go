package workflows

import (
	"fmt"
	"time"

	"github.com/byokflow/byokflow/contract"
)

// reaction is what the reconciliation does for one instance: at most one
// child workflow (action) and the catalog marks that go with what it saw.
type reaction struct {
	action contract.ReconcileAction
	reason string
	cause  contract.SuspendCause // of a suspend
	// setState moves the instance (before a resume of a restored key,
	// after the suspend of a destroyed one).
	setState    contract.InstanceState
	unreachable bool // nodes report unreachable, mark set
	reachable   bool // nodes report active again, mark cleared
	raise       bool // the grace window is over: audit and degraded mark
}

// child reports whether r starts a child workflow.
func (r reaction) child() bool {
	switch r.action {
	case contract.ReconcileRewrap, contract.ReconcileSuspend, contract.ReconcileResume,
		contract.ReconcileRemoveStorage:
		return true
	}
	return false
}

// noted reports whether r changes or says anything (an audit event).
func (r reaction) noted() bool {
	return r.action != contract.ReconcileNone || r.reachable || r.setState != ""
}

// keyStateName is how the audit and the result name what Key Protect said.
func keyStateName(k contract.KPKey) string {
	switch {
	case !k.Authoritative:
		return "unreachable"
	case k.NotFound:
		return "not found"
	}
	return k.StateName
}

// decideReconcile is the reaction of instance t to its root key k as Key
// Protect answered at now. Only an authoritative answer suspends: a Key
// Protect that does not answer leaves the nodes serving from the DEK in
// memory, marked unreachable, and is raised (never suspended) once grace
// has passed since the first run that found it so.
func decideReconcile(k contract.KPKey, t contract.ReconcileTarget, now time.Time, grace time.Duration) reaction {
	if !k.Authoritative {
		return decideUnreachable(t, now, grace)
	}
	r := reaction{reachable: !t.UnreachableSince.IsZero() || anyNode(t, contract.KeyUnreachable)}
	var next reaction
	switch {
	case k.NotFound || k.State == contract.KPStateDestroyed:
		next = decideDestroyed(k, t, now)
	case k.State == contract.KPStateSuspended:
		next = decideDisabled(t)
	default: // Active, or Deactivated (expired: its versions still unwrap)
		next = decideUsable(k, t)
	}
	next.reachable = r.reachable
	if next.action == contract.ReconcileNone && r.reachable {
		next.action, next.reason = contract.ReconcileReachable, "Key Protect answers again: the nodes report active"
	}
	return next
}

func decideUnreachable(t contract.ReconcileTarget, now time.Time, grace time.Duration) reaction {
	r := reaction{action: contract.ReconcileUnreachable, unreachable: true,
		reason: "Key Protect does not answer: the nodes keep serving from the DEK in memory; " +
			"only an authoritative answer (disabled, deleted) suspends"}
	since := t.UnreachableSince
	if since.IsZero() {
		since = now
	}
	if t.DegradedAt.IsZero() && now.Sub(since) >= grace {
		r.raise = true
		r.reason = fmt.Sprintf("Key Protect has not answered since %s, longer than the grace window (%s): "+
			"the instance is degraded; the nodes keep serving, nothing is suspended", since.UTC().Format(time.RFC3339), grace)
	}
	return r
}

func decideDestroyed(k contract.KPKey, t contract.ReconcileTarget, now time.Time) reaction {
	if !k.DeletionDate.IsZero() && !now.Before(k.DeletionDate.Add(contract.KeyRestoreWindow)) {
		return reaction{action: contract.ReconcileRemoveStorage, reason: fmt.Sprintf("root key deleted on %s "+
			"and not restored within %s: the node storage is removed", k.DeletionDate.UTC().Format(time.RFC3339),
			contract.KeyRestoreWindow)}
	}
	window := "restore it in Key Protect within 30 days of its deletion and the instance resumes by itself"
	if !k.DeletionDate.IsZero() {
		window = fmt.Sprintf("restore it in Key Protect before %s and the instance resumes by itself",
			k.DeletionDate.Add(contract.KeyRestoreWindow).UTC().Format(time.RFC3339))
	}
	if !allNodes(t, contract.KeySuspended) {
		return reaction{action: contract.ReconcileSuspend, cause: contract.SuspendedByKeyDestroyed,
			setState: contract.InstanceKeyDestroyed, reason: "root key destroyed: the nodes are locked; " + window}
	}
	if t.State != contract.InstanceKeyDestroyed {
		return reaction{action: contract.ReconcileMarkDestroyed, setState: contract.InstanceKeyDestroyed,
			reason: "root key destroyed: the nodes stay locked; " + window}
	}
	return reaction{action: contract.ReconcileNone}
}

func decideDisabled(t contract.ReconcileTarget) reaction {
	if allNodes(t, contract.KeySuspended) && t.SuspendedBy != "" {
		return reaction{action: contract.ReconcileNone}
	}
	cause := contract.SuspendedByKeyDisabled
	if t.SuspendedBy == contract.SuspendedByOperator {
		cause = contract.SuspendedByOperator // an operator's suspend stays the operator's
	}
	reason := "root key disabled by the customer: every node suspends (server stopped, storage locked, DEK flushed)"
	if t.SuspendedBy != "" {
		reason = "root key disabled and a node not suspended: repaired"
	}
	return reaction{action: contract.ReconcileSuspend, cause: cause, reason: reason}
}

func decideUsable(k contract.KPKey, t contract.ReconcileTarget) reaction {
	switch {
	case t.State == contract.InstanceKeyDestroyed:
		return reaction{action: contract.ReconcileResume, setState: contract.InstanceActive,
			reason: "root key restored in Key Protect: the instance resumes"}
	case t.SuspendedBy.ByKey():
		return reaction{action: contract.ReconcileResume, reason: "root key " + k.StateName +
			" again: the instance the reconciliation suspended resumes"}
	case t.SuspendedBy == contract.SuspendedByOperator:
		if !allNodes(t, contract.KeySuspended) {
			return reaction{action: contract.ReconcileSuspend, cause: contract.SuspendedByOperator,
				reason: "suspended by an operator and a node not suspended: repaired"}
		}
		return reaction{action: contract.ReconcileNone}
	case anyNode(t, contract.KeySuspended) || anyNode(t, contract.KeyPending):
		return reaction{action: contract.ReconcileResume, reason: "root key " + k.StateName +
			" and a node suspended or pending: repaired"}
	case k.KeyVersionID != "" && (k.KeyVersionID != t.KeyVersionID || !allVersion(t, k.KeyVersionID)):
		return reaction{action: contract.ReconcileRewrap, reason: fmt.Sprintf("root key at version %s, "+
			"the instance at %s (rotated outside byokflow): every node rewraps", k.KeyVersionID, t.KeyVersionID)}
	}
	return reaction{action: contract.ReconcileNone}
}

func anyNode(t contract.ReconcileTarget, s contract.KeyState) bool {
	for _, n := range t.Nodes {
		if n.State == s {
			return true
		}
	}
	return false
}

func allNodes(t contract.ReconcileTarget, s contract.KeyState) bool {
	for _, n := range t.Nodes {
		if n.State != s {
			return false
		}
	}
	return true
}

func allVersion(t contract.ReconcileTarget, version string) bool {
	for _, n := range t.Nodes {
		if n.KeyVersionID != version {
			return false
		}
	}
	return true
}

// keyGroup is one root key and the instances on it, in catalog order.
type keyGroup struct {
	rootKeyID, kpInstanceID string
	targets                 []contract.ReconcileTarget
}

// groupByKey groups targets by (Key Protect instance, root key), in the
// order each key first appears: one Key Protect read per group.
func groupByKey(targets []contract.ReconcileTarget) []keyGroup {
	var groups []keyGroup
	index := map[[2]string]int{}
	for _, t := range targets {
		id := [2]string{t.KPInstanceID, t.RootKeyID}
		i, ok := index[id]
		if !ok {
			i = len(groups)
			index[id] = i
			groups = append(groups, keyGroup{rootKeyID: t.RootKeyID, kpInstanceID: t.KPInstanceID})
		}
		groups[i].targets = append(groups[i].targets, t)
	}
	return groups
}
