package catalog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

func TestDeleteInstance_CompensationLeavesNothing(t *testing.T) {
	for _, state := range []catalog.InstanceState{catalog.InstanceProvisioning, catalog.InstanceFailed} {
		t.Run(string(state), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			mustInstance(t, e.cat, "orders-db")
			mustInstance(t, e.cat, "other-db")
			for _, node := range []string{"n0", "n1"} {
				_, err := e.cat.AppendReport(ctx, report("orders-db", node, catalog.KeyPending))
				require.NoError(t, err)
			}
			_, err := e.cat.AppendReport(ctx, report("other-db", "n0", catalog.KeyActive))
			require.NoError(t, err)
			require.NoError(t, e.cat.SetInstanceState(ctx, "orders-db", state, "compensating"))

			require.NoError(t, e.cat.DeleteInstance(ctx, "orders-db"))
			for _, table := range []string{"instances WHERE id", "nodes WHERE instance_id", "key_status_reports WHERE instance_id"} {
				require.Equal(t, 0, count(t, e.raw, "SELECT count(*) FROM "+table+" = 'orders-db'"), table)
				require.NotZero(t, count(t, e.raw, "SELECT count(*) FROM "+table+" = 'other-db'"), table)
			}
			require.NoError(t, e.cat.DeleteInstance(ctx, "orders-db"), "a retried compensation must succeed")
		})
	}
}

func TestDeleteInstance_KeepsEvidence(t *testing.T) {
	for _, state := range []catalog.InstanceState{catalog.InstanceActive, catalog.InstanceShredded} {
		t.Run(string(state), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			mustInstance(t, e.cat, "orders-db")
			_, err := e.cat.AppendReport(ctx, report("orders-db", "n0", catalog.KeyActive))
			require.NoError(t, err)
			require.NoError(t, e.cat.SetInstanceState(ctx, "orders-db", state, ""))

			err = e.cat.DeleteInstance(ctx, "orders-db")
			require.ErrorIs(t, err, catalog.ErrInvalidState)
			require.ErrorContains(t, err, "orders-db")

			// The database refuses too, for the instance and for its nodes.
			for _, sql := range []string{
				"DELETE FROM instances WHERE id = 'orders-db'",
				"DELETE FROM nodes WHERE instance_id = 'orders-db'",
			} {
				_, err = e.raw.Exec(ctx, sql)
				requirePgCode(t, err, codeRestrictViolation)
			}
			require.Equal(t, 1, count(t, e.raw, "SELECT count(*) FROM key_status_reports"))
			require.Equal(t, 2, count(t, e.raw, "SELECT count(*) FROM nodes"))
		})
	}
}

func TestDeleteInstance_WithBackupRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustInstance(t, e.cat, "orders-db")
	_, err := e.cat.CreateBackup(ctx, sampleBackup("bk-1", "orders-db"))
	require.NoError(t, err)

	err = e.cat.DeleteInstance(ctx, "orders-db")
	require.ErrorIs(t, err, catalog.ErrInvalidState)
	require.Equal(t, 1, count(t, e.raw, "SELECT count(*) FROM instances"))
}
