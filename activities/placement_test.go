package activities

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

func TestPlaceNodes_RoundRobinOverSortedHosts(t *testing.T) {
	hosts := []catalog.Host{{Name: "host-b", TaskQueue: "byokflow-node-host-b"},
		{Name: "host-a", TaskQueue: "byokflow-node-host-a"}, {Name: "host-c"}}

	got := placeNodes("orders-db", 4, hosts)

	require.Equal(t, []catalog.Node{
		{InstanceID: "orders-db", NodeID: "orders-db-1", Host: "host-a", TaskQueue: "byokflow-node-host-a", Ordinal: 0},
		{InstanceID: "orders-db", NodeID: "orders-db-2", Host: "host-b", TaskQueue: "byokflow-node-host-b", Ordinal: 1},
		{InstanceID: "orders-db", NodeID: "orders-db-3", Host: "host-c", TaskQueue: contract.NodeTaskQueue("host-c"), Ordinal: 2},
		{InstanceID: "orders-db", NodeID: "orders-db-4", Host: "host-a", TaskQueue: "byokflow-node-host-a", Ordinal: 3},
	}, got)
	require.Equal(t, "host-b", hosts[0].Name, "the caller's slice is not reordered")
	require.Equal(t, got, placeNodes("orders-db", 4, []catalog.Host{hosts[2], hosts[0], hosts[1]}), "order-independent")
}

func TestInstanceCRN_DeterministicFromInstanceID(t *testing.T) {
	cfg := Config{AccountID: "acct", ServiceName: "hyperp-dbaas-postgresql", Region: "eu-de"}

	require.Equal(t, "crn:v1:bluemix:public:hyperp-dbaas-postgresql:eu-de:a/acct:orders-db::", instanceCRN(cfg, "orders-db"))
	require.Equal(t, "orders-db", instanceOfCRN(instanceCRN(cfg, "orders-db")))
	require.Equal(t, "not-a-crn", instanceOfCRN("not-a-crn"))
}

func TestDatabaseName_ValidForEveryInstanceName(t *testing.T) {
	require.Equal(t, "byok_orders_db_1", databaseName("orders-db-1"))
	longest := "a234567890123456789012345678901234567890"
	require.NoError(t, contract.ValidateInstanceName(longest))
	require.Regexp(t, `^byok_[a-z0-9_]{1,58}$`, databaseName(longest), "a name the node agent accepts")
	require.LessOrEqual(t, len(databaseName(longest)), 63, "PostgreSQL truncates identifiers at 63 bytes")
}

func TestInstanceState_MapsCatalogStates(t *testing.T) {
	tests := map[catalog.InstanceState]contract.InstanceState{
		catalog.InstanceProvisioning: contract.InstancePending,
		catalog.InstanceActive:       contract.InstanceActive,
		catalog.InstanceRotating:     contract.InstanceActive,
		catalog.InstanceFailed:       contract.InstanceFailed,
		catalog.InstanceShredded:     "shredded",
	}
	for from, want := range tests {
		require.Equal(t, want, instanceState(from), string(from))
	}
}
