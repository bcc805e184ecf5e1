package node

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/contract"
)

func TestBackupRestore_IntoAnotherNodeKeepsDataSchemaAndSequences(t *testing.T) {
	t.Parallel()
	h := newDataHarness(t)
	copied := h.startPrimary("orders-db-copy", "orders-db-copy-1", "db_orders_copy")
	src := h.scratchDB()
	h.fillFixture(h.db(src), 10000)
	var b contract.BackupDatabaseResult
	timed(t, "backup", func() { b = h.mustBackup(src) })
	require.Greater(t, b.Bytes, int64(4<<20), "a few MB of rows")

	var res contract.RestoreDatabaseResult
	var err error
	timed(t, "restore", func() { res, err = h.restoreDB(restoreInput(b, copied, copied.database)) })
	require.NoError(t, err)
	require.Equal(t, contract.RestoreDatabaseResult{Bytes: b.Bytes, Tables: b.Tables, Rows: b.Rows}, res)
	require.Equal(t, 7, b.Tables, "customers, orders, order_lines, Closed Accounts, 2 partitions, grants")
	require.Equal(t, int64(10000+20000+60000+100+10000+10), b.Rows)
	dst := h.conn(copied, copied.database)
	require.Equal(t, h.fingerprint(h.db(src)), h.fingerprint(dst), "the other node's server holds the same")

	// Sequences continue where the source's are, and constraints hold.
	for _, conn := range []*pgx.Conn{h.db(src), dst} {
		where := conn.Config().Database
		var orderID, customerID int64
		require.NoError(t, conn.QueryRow(h.ctx, "INSERT INTO orders (customer_id, total) VALUES (1, 1) RETURNING id").Scan(&orderID))
		require.Equal(t, int64(20006), orderID, where)
		require.NoError(t, conn.QueryRow(h.ctx, "INSERT INTO customers (name) VALUES ('new') RETURNING id").Scan(&customerID))
		require.Equal(t, int64(10001), customerID, where)
		_, err := conn.Exec(h.ctx, "INSERT INTO order_lines VALUES (-1, 1, 'x', 1)")
		requirePgCode(t, err, "23503") // foreign key
		_, err = conn.Exec(h.ctx, "INSERT INTO customers (name) VALUES ('new')")
		requirePgCode(t, err, "23505") // unique index
		_, err = conn.Exec(h.ctx, "INSERT INTO orders (customer_id, total) VALUES (1, -1)")
		requirePgCode(t, err, "23514") // check constraint
	}
	var owner string
	require.NoError(t, dst.QueryRow(h.ctx, "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'").Scan(&owner))
	require.Equal(t, contract.AdminRole, owner, "restored objects belong to the instance's admin role")
}

func requirePgCode(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want PostgreSQL error %s, got %v", code, err)
	require.Equal(t, code, pgErr.Code, pgErr.Message)
}

// TestRestoreDatabase_IntoAServingPrimary runs, on one primary node, the
// restore cases that touch only their own scratch databases and backups.
func TestRestoreDatabase_IntoAServingPrimary(t *testing.T) {
	t.Parallel()
	runOnOnePrimary(t, []dataCase{
		{"retry after commit returns the earlier result", restoreRetryAfterCommitReturnsEarlierResult},
		{"database with other tables is refused", restoreDatabaseWithOtherTablesIsRefused},
		{"missing file is backup not found", restoreMissingFileIsBackupNotFound},
		{"location outside the store is refused", restoreLocationOutsideStoreIsRefused},
		{"wrapped DEK of another backup is corrupt", restoreWrappedDEKOfAnotherBackupIsCorrupt},
		{"rewrap under the newest version returns it as is", rewrapBackupUnderNewestVersionReturnsItAsIs},
	})
}

func restoreRetryAfterCommitReturnsEarlierResult(t *testing.T, h *harness) {
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(h.db(src), 200)
	b := h.mustBackup(src)
	first, err := h.restoreDB(restoreInput(b, h.src, dst))
	require.NoError(t, err)
	require.NoError(t, os.Remove(h.backupFile(b)), "a retry must not need the file again")

	again, err := h.restoreDB(restoreInput(b, h.src, dst))
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, h.fingerprint(h.db(src)), h.fingerprint(h.db(dst)), "loaded once")
}

func restoreDatabaseWithOtherTablesIsRefused(t *testing.T, h *harness) {
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(h.db(src), 50)
	b := h.mustBackup(src)
	_, err := h.db(dst).Exec(h.ctx, "CREATE TABLE squatter (id int)")
	require.NoError(t, err)

	_, err = h.restoreDB(restoreInput(b, h.src, dst))
	requireType(t, err, contract.ErrTypeInvalidInput, "database "+dst+" is not empty", "new instance")
	require.Equal(t, []string{"public.squatter"}, h.userTables(dst))
}

func restoreMissingFileIsBackupNotFound(t *testing.T, h *harness) {
	src, dst := h.scratchDB(), h.scratchDB()
	h.fillFixture(h.db(src), 50)
	b := h.mustBackup(src)
	require.NoError(t, os.Remove(h.backupFile(b)))

	_, err := h.restoreDB(restoreInput(b, h.src, dst))
	requireType(t, err, contract.ErrTypeBackupNotFound, "backup "+testBackupID+" is not in the backup store")
	require.Empty(t, h.userTables(dst))
}

func restoreLocationOutsideStoreIsRefused(t *testing.T, h *harness) {
	b := contract.BackupDatabaseResult{BackupID: testBackupID, Location: "../elsewhere.byok",
		SHA256:    strings.Repeat("0", 64),
		RootKeyID: h.rootKey, KeyVersionID: "v", WrappedDEK: []byte("x")}
	_, err := h.restoreDB(restoreInput(b, h.src, "byok_test_never_created"))
	requireType(t, err, contract.ErrTypeInvalidInput, "not a path inside the backup store")
}
