package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/catalog/catalogtest"
)

// PostgreSQL error codes the tests expect from constraints and triggers.
const (
	codeCheckViolation    = "23514"
	codeRestrictViolation = "23001"
)

// env is a catalog in a fresh schema plus a plain pool on the same schema.
type env struct {
	cat *catalog.Catalog
	raw *pgxpool.Pool
}

func newEnv(t *testing.T) env {
	t.Helper()
	cfg := catalogtest.Config(t)
	return env{cat: catalogtest.OpenConfig(t, cfg), raw: catalogtest.Pool(t, cfg)}
}

func sampleInstance(id string) catalog.Instance {
	return catalog.Instance{
		ID:                 id,
		CRN:                "crn:v1:bluemix:public:databases-for-postgresql:us-south:a/acct:" + id + "::",
		KPInstanceID:       "kp-instance-1",
		RootKeyID:          "root-key-1",
		KeyVersionAtCreate: "version-1",
		DatabaseName:       "db_" + id,
		NodeCount:          2,
		WorkflowID:         "provision-" + id,
	}
}

// mustInstance creates an instance with two nodes, n0 (primary) and n1.
func mustInstance(t *testing.T, c *catalog.Catalog, id string) catalog.Instance {
	t.Helper()
	in, err := c.CreateInstance(context.Background(), sampleInstance(id))
	require.NoError(t, err)
	err = c.AddNodes(context.Background(), id, []catalog.Node{
		{NodeID: "n0", Host: "host-a", TaskQueue: "node-host-a", Ordinal: 0},
		{NodeID: "n1", Host: "host-b", TaskQueue: "node-host-b", Ordinal: 1},
	})
	require.NoError(t, err)
	return in
}

func report(instanceID, nodeID string, state catalog.KeyState) catalog.KeyStatusReport {
	return catalog.KeyStatusReport{
		InstanceID: instanceID, NodeID: nodeID, RootKeyID: "root-key-1",
		KeyVersionID: "version-1", State: state, CheckValue: "a1b2c3",
	}
}

// requirePgCode asserts err is a PostgreSQL error with the given SQLSTATE.
func requirePgCode(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want PostgreSQL error %s, got %v", code, err)
	require.Equal(t, code, pgErr.Code, pgErr.Message)
}

// count returns the result of a SELECT count(*) … query.
func count(t *testing.T, raw *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, raw.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}
