package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func target(state contract.InstanceState, by contract.SuspendCause, version string, nodeStates ...contract.KeyState) contract.ReconcileTarget {
	t := contract.ReconcileTarget{InstanceID: instanceID, RootKeyID: rootKeyID, KPInstanceID: kpInstance,
		KeyVersionID: version, State: state, SuspendedBy: by}
	for i, s := range nodeStates {
		t.Nodes = append(t.Nodes, contract.ReconcileNode{NodeID: nodes[i].NodeID, State: s, KeyVersionID: version})
	}
	return t
}

var (
	kpActive    = contract.KPKey{Authoritative: true, State: contract.KPStateActive, StateName: "Active", KeyVersionID: "v1"}
	kpDisabled  = contract.KPKey{Authoritative: true, State: contract.KPStateSuspended, StateName: "Suspended", KeyVersionID: "v1"}
	kpDestroyed = contract.KPKey{Authoritative: true, State: contract.KPStateDestroyed, StateName: "Destroyed",
		KeyVersionID: "v1", DeletionDate: t0.Add(-24 * time.Hour)}
	kpDown = contract.KPKey{StateName: "unreachable", Error: "503"}
	act    = contract.KeyActive
	sus    = contract.KeySuspended
	unr    = contract.KeyUnreachable
)

func TestDecideReconcile_Table(t *testing.T) {
	const grace = time.Hour
	rotated := kpActive
	rotated.KeyVersionID = "v2"
	expired := kpDestroyed
	expired.DeletionDate = t0.Add(-contract.KeyRestoreWindow)
	down := target(contract.InstanceActive, "", "v1", act, act, act)
	downLong := target(contract.InstanceActive, "", "v1", unr, unr, unr)
	downLong.UnreachableSince = t0.Add(-grace)
	downRaised := downLong
	downRaised.DegradedAt = t0.Add(-time.Minute)
	back := target(contract.InstanceActive, "", "v1", unr, unr, unr)
	back.UnreachableSince = t0.Add(-time.Minute)
	for name, tc := range map[string]struct {
		key    contract.KPKey
		target contract.ReconcileTarget
		want   reaction
	}{
		"in step: nothing": {kpActive, target(contract.InstanceActive, "", "v1", act, act, act),
			reaction{action: contract.ReconcileNone}},
		"rotated outside: rewrap": {rotated, target(contract.InstanceActive, "", "v1", act, act, act),
			reaction{action: contract.ReconcileRewrap}},
		"disabled: suspend, the key's cause": {kpDisabled, target(contract.InstanceActive, "", "v1", act, act, act),
			reaction{action: contract.ReconcileSuspend, cause: contract.SuspendedByKeyDisabled}},
		"disabled and suspended: nothing": {kpDisabled, target(contract.InstanceActive, contract.SuspendedByKeyDisabled, "v1", sus, sus, sus),
			reaction{action: contract.ReconcileNone}},
		"disabled, a node came back pending: repair": {kpDisabled, target(contract.InstanceActive, contract.SuspendedByKeyDisabled, "v1", sus, contract.KeyPending, sus),
			reaction{action: contract.ReconcileSuspend, cause: contract.SuspendedByKeyDisabled}},
		"disabled, operator's suspend stays the operator's": {kpDisabled, target(contract.InstanceActive, contract.SuspendedByOperator, "v1", sus, act, sus),
			reaction{action: contract.ReconcileSuspend, cause: contract.SuspendedByOperator}},
		"enabled again: resume": {kpActive, target(contract.InstanceActive, contract.SuspendedByKeyDisabled, "v1", sus, sus, sus),
			reaction{action: contract.ReconcileResume}},
		"enabled, operator suspended: nothing": {kpActive, target(contract.InstanceActive, contract.SuspendedByOperator, "v1", sus, sus, sus),
			reaction{action: contract.ReconcileNone}},
		"active, a node left suspended: repair": {kpActive, target(contract.InstanceActive, "", "v1", act, sus, act),
			reaction{action: contract.ReconcileResume}},
		"destroyed: suspend and mark": {kpDestroyed, target(contract.InstanceActive, "", "v1", act, act, act),
			reaction{action: contract.ReconcileSuspend, cause: contract.SuspendedByKeyDestroyed, setState: contract.InstanceKeyDestroyed}},
		"destroyed, already locked: mark": {kpDestroyed, target(contract.InstanceActive, contract.SuspendedByKeyDisabled, "v1", sus, sus, sus),
			reaction{action: contract.ReconcileMarkDestroyed, setState: contract.InstanceKeyDestroyed}},
		"destroyed and marked: nothing": {kpDestroyed, target(contract.InstanceKeyDestroyed, contract.SuspendedByKeyDestroyed, "v1", sus, sus, sus),
			reaction{action: contract.ReconcileNone}},
		"destroyed past the restore window: remove storage": {expired, target(contract.InstanceKeyDestroyed, contract.SuspendedByKeyDestroyed, "v1", sus, sus, sus),
			reaction{action: contract.ReconcileRemoveStorage}},
		"restored: active, resume": {kpActive, target(contract.InstanceKeyDestroyed, contract.SuspendedByKeyDestroyed, "v1", sus, sus, sus),
			reaction{action: contract.ReconcileResume, setState: contract.InstanceActive}},
		"not found is authoritative": {contract.KPKey{Authoritative: true, NotFound: true},
			target(contract.InstanceActive, "", "v1", act, act, act),
			reaction{action: contract.ReconcileSuspend, cause: contract.SuspendedByKeyDestroyed, setState: contract.InstanceKeyDestroyed}},
		"unreachable: nodes serve, marked": {kpDown, down,
			reaction{action: contract.ReconcileUnreachable, unreachable: true}},
		"unreachable past grace: raised, not suspended": {kpDown, downLong,
			reaction{action: contract.ReconcileUnreachable, unreachable: true, raise: true}},
		"unreachable, raised already: not again": {kpDown, downRaised,
			reaction{action: contract.ReconcileUnreachable, unreachable: true}},
		"unreachable while disabled: never suspends": {kpDown, target(contract.InstanceActive, "", "v1", act, act, act),
			reaction{action: contract.ReconcileUnreachable, unreachable: true}},
		"answers again: nodes active": {kpActive, back,
			reaction{action: contract.ReconcileReachable, reachable: true}},
		"answers again disabled: suspend and clear": {kpDisabled, back,
			reaction{action: contract.ReconcileSuspend, cause: contract.SuspendedByKeyDisabled, reachable: true}},
	} {
		t.Run(name, func(t *testing.T) {
			got := decideReconcile(tc.key, tc.target, t0, grace)
			require.NotEmpty(t, got.reason+string(got.action))
			got.reason = ""
			require.Equal(t, tc.want, got)
		})
	}
}

func TestDecideReconcile_ReasonsNameTheRestoreDeadline(t *testing.T) {
	got := decideReconcile(kpDestroyed, target(contract.InstanceActive, "", "v1", act), t0, time.Hour)
	require.Contains(t, got.reason, kpDestroyed.DeletionDate.Add(contract.KeyRestoreWindow).Format(time.RFC3339))
}

func TestGroupByKey_OneGroupPerKeyInFirstSeenOrder(t *testing.T) {
	a := contract.ReconcileTarget{InstanceID: "a", RootKeyID: "k1", KPInstanceID: "p"}
	b := contract.ReconcileTarget{InstanceID: "b", RootKeyID: "k2", KPInstanceID: "p"}
	c := contract.ReconcileTarget{InstanceID: "c", RootKeyID: "k1", KPInstanceID: "p"}
	d := contract.ReconcileTarget{InstanceID: "d", RootKeyID: "k1", KPInstanceID: "q"}
	got := groupByKey([]contract.ReconcileTarget{a, b, c, d})
	require.Equal(t, []keyGroup{{"k1", "p", []contract.ReconcileTarget{a, c}}, {"k2", "p", []contract.ReconcileTarget{b}},
		{"k1", "q", []contract.ReconcileTarget{d}}}, got)
}
