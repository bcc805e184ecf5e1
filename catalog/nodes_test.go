package catalog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

func TestUpsertHost_RegistersAndRefreshes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.cat.UpsertHost(ctx, "host-b", "node-host-b")
	require.NoError(t, err)
	_, err = e.cat.UpsertHost(ctx, "host-a", "node-host-a")
	require.NoError(t, err)

	again, err := e.cat.UpsertHost(ctx, "host-b", "node-host-b-v2")
	require.NoError(t, err)
	require.Equal(t, "node-host-b-v2", again.TaskQueue)
	require.Equal(t, first.CreatedAt, again.CreatedAt)
	require.True(t, again.LastSeenAt.After(first.LastSeenAt), "last seen must advance")

	hosts, err := e.cat.ListHosts(ctx)
	require.NoError(t, err)
	require.Len(t, hosts, 2)
	require.Equal(t, "host-a", hosts[0].Name)
	require.Equal(t, again, hosts[1])
}

func TestAddNodes_UpsertIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	before, err := e.cat.ListNodes(ctx, "orders-db")
	require.NoError(t, err)
	require.Len(t, before, 2)
	require.Equal(t, "n0", before[0].NodeID)
	require.Equal(t, "orders-db", before[0].InstanceID)

	// The same placement again changes nothing.
	require.NoError(t, e.cat.AddNodes(ctx, "orders-db", []catalog.Node{
		{NodeID: "n0", Host: "host-a", TaskQueue: "node-host-a", Ordinal: 0},
		{NodeID: "n1", Host: "host-b", TaskQueue: "node-host-b", Ordinal: 1},
	}))
	same, err := e.cat.ListNodes(ctx, "orders-db")
	require.NoError(t, err)
	require.Equal(t, before, same)

	// Another placement for n1 replaces it.
	require.NoError(t, e.cat.AddNodes(ctx, "orders-db", []catalog.Node{
		{InstanceID: "orders-db", NodeID: "n1", Host: "host-c", TaskQueue: "node-host-c", Ordinal: 1},
	}))
	moved, err := e.cat.ListNodes(ctx, "orders-db")
	require.NoError(t, err)
	require.Len(t, moved, 2)
	require.Equal(t, "host-c", moved[1].Host)
	require.Equal(t, "node-host-c", moved[1].TaskQueue)
}

func TestAddNodes_Rejects(t *testing.T) {
	tests := []struct {
		name     string
		instance string
		node     catalog.Node
		wantErr  error
		wantText string
	}{
		{name: "unknown instance", instance: "missing-db",
			node: catalog.Node{NodeID: "n0", Host: "h", TaskQueue: "q"}, wantErr: catalog.ErrNotFound, wantText: "missing-db"},
		{name: "node of another instance", instance: "orders-db",
			node: catalog.Node{InstanceID: "other-db", NodeID: "n0", Host: "h", TaskQueue: "q"}, wantText: "belongs to instance other-db"},
		{name: "empty host", instance: "orders-db",
			node: catalog.Node{NodeID: "n9", TaskQueue: "q", Ordinal: 9}, wantText: "orders-db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, err := e.cat.CreateInstance(context.Background(), sampleInstance("orders-db"))
			require.NoError(t, err)
			err = e.cat.AddNodes(context.Background(), tt.instance, []catalog.Node{tt.node})
			require.ErrorContains(t, err, tt.wantText)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			}
			require.Equal(t, 0, count(t, e.raw, "SELECT count(*) FROM nodes"))
		})
	}
}

func TestListNodes_UnknownInstanceEmpty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nodes, err := e.cat.ListNodes(context.Background(), "missing-db")
	require.NoError(t, err)
	require.Empty(t, nodes)
}
