package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

// uniqueDatabase returns a fresh byokflow database name, dropped when t ends.
func uniqueDatabase(t *testing.T, h *harness) string {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	name := "byok_t_" + hex.EncodeToString(b)
	t.Cleanup(func() { _ = h.acts.admin.DropDatabase(context.Background(), name) })
	return name
}

func (h *harness) databaseExists(name string) bool {
	h.t.Helper()
	var n int
	err := testPool(h.t).QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n)
	require.NoError(h.t, err)
	return n == 1
}

func TestInstanceDatabase_CreateAndDropAreIdempotent(t *testing.T) {
	h := newCatalogHarness(t)
	name := uniqueDatabase(t, h)
	create := contract.CreateInstanceDatabaseInput{InstanceID: "orders-db", DatabaseName: name}

	require.NoError(t, h.run(contract.ActivityCreateInstanceDatabase, create, nil))
	require.NoError(t, h.run(contract.ActivityCreateInstanceDatabase, create, nil), "exists is success")
	require.True(t, h.databaseExists(name))

	drop := contract.DropInstanceDatabaseInput(create)
	require.NoError(t, h.run(contract.ActivityDropInstanceDatabase, drop, nil))
	require.NoError(t, h.run(contract.ActivityDropInstanceDatabase, drop, nil), "gone is success")
	require.False(t, h.databaseExists(name))
}

func TestInstanceDatabase_RefusesForeignNames(t *testing.T) {
	h := newCatalogHarness(t)
	for _, name := range []string{"postgres", "template1", `byok_x"; DROP DATABASE postgres; --`, "byok_", "BYOK_ORDERS"} {
		err := h.run(contract.ActivityDropInstanceDatabase,
			contract.DropInstanceDatabaseInput{InstanceID: "orders-db", DatabaseName: name}, nil)
		requireTyped(t, err, contract.ErrTypeInvalidInput, "is not a byokflow database name")
	}
	require.True(t, h.databaseExists("postgres"))
	require.True(t, h.databaseExists("template1"))
}
