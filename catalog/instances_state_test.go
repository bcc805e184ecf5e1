package catalog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

func TestSetInstanceState_Transitions(t *testing.T) {
	tests := []struct {
		name    string
		from    catalog.InstanceState
		to      catalog.InstanceState
		reason  string
		wantErr error
	}{
		{name: "provisioning to active", from: catalog.InstanceProvisioning, to: catalog.InstanceActive},
		{name: "provisioning to failed", from: catalog.InstanceProvisioning, to: catalog.InstanceFailed, reason: "node n1 reported error"},
		{name: "active to rotating", from: catalog.InstanceActive, to: catalog.InstanceRotating},
		{name: "shredding to shredded", from: catalog.InstanceShredding, to: catalog.InstanceShredded},
		{name: "shredded again", from: catalog.InstanceShredded, to: catalog.InstanceShredded},
		{name: "shredded is terminal", from: catalog.InstanceShredded, to: catalog.InstanceActive, wantErr: catalog.ErrInvalidState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			in := sampleInstance("orders-db")
			in.State = tt.from
			created, err := e.cat.CreateInstance(ctx, in)
			require.NoError(t, err)

			err = e.cat.SetInstanceState(ctx, "orders-db", tt.to, tt.reason)
			got, getErr := e.cat.GetInstance(ctx, "orders-db")
			require.NoError(t, getErr)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorContains(t, err, "orders-db")
				require.Equal(t, tt.from, got.State)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.to, got.State)
			require.Equal(t, tt.reason, got.FailureReason)
			require.False(t, got.UpdatedAt.Before(created.UpdatedAt))
		})
	}
}

func TestSetInstanceState_Rejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.cat.CreateInstance(ctx, sampleInstance("orders-db"))
	require.NoError(t, err)

	err = e.cat.SetInstanceState(ctx, "orders-db", "bogus", "")
	require.ErrorContains(t, err, `unknown state "bogus"`)

	err = e.cat.SetInstanceState(ctx, "missing-db", catalog.InstanceActive, "")
	require.ErrorIs(t, err, catalog.ErrNotFound)
	require.ErrorContains(t, err, "missing-db")
}

func TestInstances_ShreddedIsTerminalInSQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.cat.CreateInstance(ctx, sampleInstance("orders-db"))
	require.NoError(t, err)
	require.NoError(t, e.cat.SetInstanceState(ctx, "orders-db", catalog.InstanceShredded, ""))

	_, err = e.raw.Exec(ctx, "UPDATE instances SET state = 'active' WHERE id = 'orders-db'")
	requirePgCode(t, err, codeCheckViolation)
}
