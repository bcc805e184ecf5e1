package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

func TestOperations_OneHolderPerInstance(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rotate := catalog.Operation{InstanceID: "orders-db", WorkflowID: "rotate-orders-db", RunID: "r1", Operation: "rotate"}
	backup := catalog.Operation{InstanceID: "orders-db", WorkflowID: "backup-orders-db", RunID: "b1", Operation: "backup"}

	got, err := e.cat.AcquireOperation(ctx, rotate)
	require.NoError(t, err)
	require.True(t, got.Holds(rotate.WorkflowID, rotate.RunID))
	again, err := e.cat.AcquireOperation(ctx, rotate)
	require.NoError(t, err)
	require.Equal(t, got, again, "a retry of the same run finds its own lock")

	held, err := e.cat.AcquireOperation(ctx, backup)
	require.NoError(t, err)
	require.True(t, held.Holds(rotate.WorkflowID, rotate.RunID), "the second operation sees the holder")
	require.Equal(t, "rotate", held.Operation)

	require.NoError(t, e.cat.ReleaseOperation(ctx, "orders-db", backup.WorkflowID, backup.RunID))
	still, err := e.cat.CurrentOperation(ctx, "orders-db")
	require.NoError(t, err)
	require.True(t, still.Holds(rotate.WorkflowID, rotate.RunID), "only the holder releases")

	require.NoError(t, e.cat.ReleaseOperation(ctx, "orders-db", rotate.WorkflowID, rotate.RunID))
	_, err = e.cat.CurrentOperation(ctx, "orders-db")
	require.True(t, errors.Is(err, catalog.ErrNotFound))
	got, err = e.cat.AcquireOperation(ctx, backup)
	require.NoError(t, err)
	require.True(t, got.Holds(backup.WorkflowID, backup.RunID))
}

func TestOperations_TakeOverOnlyFromTheHolderSeen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dead := catalog.Operation{InstanceID: "orders-db", WorkflowID: "shred-orders-db", RunID: "s1", Operation: "shred"}
	next := catalog.Operation{InstanceID: "orders-db", WorkflowID: "shred-orders-db", RunID: "s2", Operation: "shred"}
	other := catalog.Operation{InstanceID: "orders-db", WorkflowID: "rotate-orders-db", RunID: "r1", Operation: "rotate"}
	_, err := e.cat.AcquireOperation(ctx, dead)
	require.NoError(t, err)

	took, err := e.cat.TakeOverOperation(ctx, dead, next)
	require.NoError(t, err)
	require.True(t, took)
	took, err = e.cat.TakeOverOperation(ctx, dead, other)
	require.NoError(t, err)
	require.False(t, took, "the lock changed hands since dead was read")

	cur, err := e.cat.CurrentOperation(ctx, "orders-db")
	require.NoError(t, err)
	require.True(t, cur.Holds(next.WorkflowID, next.RunID))
	require.Equal(t, "shred", cur.Operation)
}

func TestAttention_SetShownAndCleared(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.cat.CreateInstance(ctx, sampleInstance("orders-db"))
	require.NoError(t, err)
	mark := catalog.Attention{Operation: "provision", Step: "DropKeySlot", Subject: "orders-db",
		Error: "drop key slot of node orders-db-1: host a is down", WorkflowID: "provision-orders-db"}

	require.NoError(t, e.cat.SetAttention(ctx, "orders-db", mark))
	got, err := e.cat.GetInstance(ctx, "orders-db")
	require.NoError(t, err)
	require.True(t, got.Attention.Set())
	require.False(t, got.Attention.At.IsZero())
	got.Attention.At = mark.At
	require.Equal(t, mark, got.Attention)

	require.NoError(t, e.cat.ClearAttention(ctx, "orders-db"))
	got, err = e.cat.GetInstance(ctx, "orders-db")
	require.NoError(t, err)
	require.False(t, got.Attention.Set())
	require.True(t, errors.Is(e.cat.SetAttention(ctx, "missing-db", mark), catalog.ErrNotFound))
}
