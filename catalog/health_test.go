package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

// serving is a node of ordinal ord on host whose latest report has its
// server up.
func serving(id, host string, ord int) catalog.NodeStatus {
	return catalog.NodeStatus{NodeID: id, Host: host, Ordinal: ord, Reported: true, State: catalog.KeyActive,
		Server: catalog.Server{ServerUp: true}}
}

func TestJudgeHealth_Decides(t *testing.T) {
	const lease = 15 * time.Second
	fresh := map[string]time.Duration{"a": time.Second, "b": 2 * time.Second, "c": 14 * time.Second}
	stale := func(h string) map[string]time.Duration {
		m := map[string]time.Duration{"a": time.Second, "b": time.Second, "c": time.Second}
		m[h] = 23 * time.Second
		return m
	}
	pending := serving("n2", "c", 2)
	pending.State, pending.ServerUp, pending.Detail = catalog.KeyPending, false, "node agent on host c started"
	unreported := catalog.NodeStatus{NodeID: "n2", Host: "c", Ordinal: 2, State: catalog.KeyPending}
	unreachable := serving("n2", "c", 2) // Key Protect down: the node serves from its key in memory
	unreachable.State = catalog.KeyUnreachable
	tests := []struct {
		name   string
		third  catalog.NodeStatus
		seen   map[string]time.Duration
		want   catalog.Health
		downs  []string
		reason string
	}{
		{"all serving, within the lease", serving("n2", "c", 2), fresh, catalog.HealthActive, nil, ""},
		{"standby's host past the lease", serving("n2", "c", 2), stale("c"), catalog.HealthDegraded, []string{"n2"},
			"host c has not checked in for 23s (lease 15s)"},
		{"standby's host unknown", serving("n2", "c", 2), map[string]time.Duration{"a": 0, "b": 0},
			catalog.HealthDegraded, []string{"n2"}, "host c is not registered"},
		{"standby reported its server down", pending, fresh, catalog.HealthDegraded, []string{"n2"},
			"reported pending with its server down: node agent on host c started"},
		{"standby never reported", unreported, fresh, catalog.HealthDegraded, []string{"n2"}, "not reported yet"},
		{"unreachable key, server up", unreachable, fresh, catalog.HealthActive, nil, ""},
		{"primary's host past the lease", serving("n2", "c", 2), stale("a"), catalog.HealthUnavailable,
			[]string{"n0"}, "host a has not checked in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := []catalog.NodeStatus{serving("n0", "a", 0), serving("n1", "b", 1), tt.third}
			got, down := catalog.JudgeHealth(nodes, tt.seen, lease)
			require.Equal(t, tt.want, got)
			var ids []string
			for _, d := range down {
				ids = append(ids, d.NodeID)
				require.Contains(t, d.Reason, tt.reason)
			}
			require.Equal(t, tt.downs, ids)
		})
	}
}

func TestHostsSeen_AgesByTheCatalogClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.cat.UpsertHost(ctx, "host-a", "node-host-a")
	require.NoError(t, err)
	_, err = e.cat.UpsertHost(ctx, "host-b", "node-host-b")
	require.NoError(t, err)
	_, err = e.raw.Exec(ctx, "UPDATE hosts SET last_seen_at = now() - interval '40 seconds' WHERE name = 'host-b'")
	require.NoError(t, err)

	seen, err := e.cat.HostsSeen(ctx)
	require.NoError(t, err)
	require.Len(t, seen, 2)
	require.Less(t, seen["host-a"], 5*time.Second)
	require.InDelta(t, 40, seen["host-b"].Seconds(), 5)

	_, err = e.cat.UpsertHost(ctx, "host-b", "node-host-b")
	require.NoError(t, err)
	seen, err = e.cat.HostsSeen(ctx)
	require.NoError(t, err)
	require.Less(t, seen["host-b"], 5*time.Second, "a check-in renews the lease")
}
