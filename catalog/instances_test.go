package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

func TestValidateInstanceID_Cases(t *testing.T) {
	tests := map[string]bool{
		"abc":                         true,
		"orders-db-1":                 true,
		"a" + strings.Repeat("b", 39): true,
		"ab":                          false, // too short
		"a" + strings.Repeat("b", 40): false, // too long
		"1abc":                        false, // starts with a digit
		"-abc":                        false,
		"Orders":                      false,
		"orders_db":                   false,
		"orders db":                   false,
		"orders\n":                    false,
	}
	for id, valid := range tests {
		t.Run(id, func(t *testing.T) {
			err := catalog.ValidateInstanceID(id)
			require.Equal(t, valid, err == nil, "id %q: %v", id, err)
		})
	}
}

func TestCreateInstance_StoresProvisioning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	want := sampleInstance("orders-db")
	got, err := e.cat.CreateInstance(ctx, want)
	require.NoError(t, err)
	require.Equal(t, catalog.InstanceProvisioning, got.State)
	require.False(t, got.CreatedAt.IsZero())

	read, err := e.cat.GetInstance(ctx, "orders-db")
	require.NoError(t, err)
	require.Equal(t, got, read)
	want.State, want.CreatedAt, want.UpdatedAt = got.State, got.CreatedAt, got.UpdatedAt
	require.Equal(t, want, read)
}

func TestCreateInstance_Retry(t *testing.T) {
	tests := []struct {
		name       string
		workflowID string
		wantErr    error
	}{
		{name: "same workflow returns the row", workflowID: "provision-orders-db"},
		{name: "other workflow conflicts", workflowID: "provision-someone-else", wantErr: catalog.ErrInstanceExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			first, err := e.cat.CreateInstance(ctx, sampleInstance("orders-db"))
			require.NoError(t, err)

			again := sampleInstance("orders-db")
			again.WorkflowID, again.RootKeyID = tt.workflowID, "another-key"
			got, err := e.cat.CreateInstance(ctx, again)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorContains(t, err, "orders-db")
				return
			}
			require.NoError(t, err)
			require.Equal(t, first, got, "a retry must not change the stored row")
		})
	}
}

func TestCreateInstance_InvalidIDRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.cat.CreateInstance(context.Background(), sampleInstance("Orders"))
	require.ErrorContains(t, err, `invalid instance id "Orders"`)
	require.Equal(t, 0, count(t, e.raw, "SELECT count(*) FROM instances"))
}

func TestInstances_CheckConstraintsReject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	insert := `INSERT INTO instances (id, crn, kp_instance_id, root_key_id, database_name, node_count, workflow_id, state)
		VALUES ($1, 'crn', 'kp', 'rk', 'db', 1, 'wf', $2)`
	tests := []struct{ name, id, state string }{
		{"upper-case id", "Orders", "provisioning"},
		{"short id", "ab", "provisioning"},
		{"underscore id", "orders_db", "provisioning"},
		{"trailing newline id", "orders\n", "provisioning"},
		{"unknown state", "orders-db", "deleted"},
		{"empty state", "orders-db", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.raw.Exec(context.Background(), insert, tt.id, tt.state)
			requirePgCode(t, err, codeCheckViolation)
		})
	}
	_, err := e.raw.Exec(context.Background(), insert, "orders-db", "active")
	require.NoError(t, err, "a valid row must pass the same checks")
	_, err = e.raw.Exec(context.Background(), "UPDATE instances SET state = 'bogus'")
	requirePgCode(t, err, codeCheckViolation)
}

func TestGetInstance_UnknownNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.cat.GetInstance(context.Background(), "missing-db")
	require.ErrorIs(t, err, catalog.ErrNotFound)
	require.ErrorContains(t, err, "missing-db")
}

func TestListInstances_OrderAndRootKeyFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, id := range []string{"zeta-db", "alpha-db", "mid-db"} {
		in := sampleInstance(id)
		if id == "mid-db" {
			in.RootKeyID = "root-key-2"
		}
		_, err := e.cat.CreateInstance(ctx, in)
		require.NoError(t, err)
	}
	all, err := e.cat.ListInstances(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"alpha-db", "mid-db", "zeta-db"}, ids(all))

	byKey, err := e.cat.InstancesByRootKey(ctx, "root-key-1")
	require.NoError(t, err)
	require.Equal(t, []string{"alpha-db", "zeta-db"}, ids(byKey))

	none, err := e.cat.InstancesByRootKey(ctx, "unused-key")
	require.NoError(t, err)
	require.Empty(t, none)
}

func ids(in []catalog.Instance) []string {
	var out []string
	for _, i := range in {
		out = append(out, i.ID)
	}
	return out
}
