package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

func TestSetSuspendedBy_AKeysCauseNeverReplacesAnOperators(t *testing.T) {
	for _, tt := range []struct{ first, then, want string }{
		{"", "key_disabled", "key_disabled"},
		{"operator", "key_disabled", "operator"},
		{"operator", "key_destroyed", "operator"},
		{"key_disabled", "operator", "operator"},
		{"key_disabled", "key_destroyed", "key_destroyed"},
		{"operator", "", ""},
	} {
		t.Run(tt.first+"→"+tt.then, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			_, err := e.cat.CreateInstance(ctx, sampleInstance("orders-db"))
			require.NoError(t, err)
			require.NoError(t, e.cat.SetSuspendedBy(ctx, "orders-db", tt.first))
			require.NoError(t, e.cat.SetSuspendedBy(ctx, "orders-db", tt.then))
			got, err := e.cat.GetInstance(ctx, "orders-db")
			require.NoError(t, err)
			require.Equal(t, tt.want, got.SuspendedBy)
		})
	}
}

func TestSetSuspendedBy_RejectsUnknownCausesAndInstances(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.cat.CreateInstance(ctx, sampleInstance("orders-db"))
	require.NoError(t, err)
	require.Error(t, e.cat.SetSuspendedBy(ctx, "orders-db", "someone"))
	require.ErrorIs(t, e.cat.SetSuspendedBy(ctx, "nobody-db", "operator"), catalog.ErrNotFound)
}

func TestKPUnreachable_MarkKeepsTheFirstTimeAndClears(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.cat.CreateInstance(ctx, sampleInstance("orders-db"))
	require.NoError(t, err)
	first := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	fresh, err := e.cat.MarkKPUnreachable(ctx, "orders-db", first, false)
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = e.cat.MarkKPUnreachable(ctx, "orders-db", first.Add(time.Hour), true)
	require.NoError(t, err)
	require.False(t, fresh)
	got, err := e.cat.GetInstance(ctx, "orders-db")
	require.NoError(t, err)
	require.True(t, got.KPUnreachableSince.Equal(first))
	require.True(t, got.KPDegradedAt.Equal(first.Add(time.Hour)))
	require.NoError(t, e.cat.ClearKPUnreachable(ctx, "orders-db"))
	got, err = e.cat.GetInstance(ctx, "orders-db")
	require.NoError(t, err)
	require.True(t, got.KPUnreachableSince.IsZero() && got.KPDegradedAt.IsZero())
}

func TestLiveInstances_ActiveAndKeyDestroyed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for id, state := range map[string]catalog.InstanceState{"alpha-db": catalog.InstanceActive,
		"beta-db": catalog.InstanceKeyDestroyed, "gamma-db": catalog.InstanceFailed, "delta-db": catalog.InstanceProvisioning} {
		in := sampleInstance(id)
		in.State = state
		_, err := e.cat.CreateInstance(ctx, in)
		require.NoError(t, err)
	}
	live, err := e.cat.LiveInstances(ctx)
	require.NoError(t, err)
	var ids []string
	for _, in := range live {
		ids = append(ids, in.ID)
	}
	require.Equal(t, []string{"alpha-db", "beta-db"}, ids)
}
